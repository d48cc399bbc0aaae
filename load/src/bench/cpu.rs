//! Where the CPU went during a measured window: the whole machine, this process (load
//! generator, echo backends, rate-limit service), the Envoys, named helpers (Redis, …) and the
//! rest, from `/proc` (Linux; `None` elsewhere).

use std::collections::BTreeMap;

use serde::Serialize;
use tokio::task::JoinHandle;

use super::report::Spread;
use super::tally::Window;

/// The processes whose CPU is counted apart from this one's.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Processes {
    /// The Envoys.
    pub envoys: Vec<u32>,
    /// Other processes the run depends on (Redis, …).
    pub helpers: Vec<u32>,
}

impl Processes {
    /// Only Envoys.
    pub fn envoys(envoys: Vec<u32>) -> Self {
        Processes {
            envoys,
            helpers: Vec::new(),
        }
    }
}

/// CPU use over a window, in cores (1.0 = one CPU busy all the time).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct CpuUse {
    /// The machine's CPUs, busy share (0 to 1).
    pub machine_busy: f64,
    /// This process.
    pub process_cores: f64,
    /// The Envoy processes named.
    pub envoy_cores: f64,
    /// The helper processes named (Redis, …).
    pub helper_cores: f64,
    /// Everything else that kept the machine busy.
    pub other_cores: f64,
}

impl CpuUse {
    /// This process, the Envoys and the helpers: what the system under test and its load
    /// generator used.
    pub fn tree_cores(&self) -> f64 {
        self.process_cores + self.envoy_cores + self.helper_cores
    }

    /// The median of each share over `samples`; `None` for none.
    pub fn median_of(samples: impl IntoIterator<Item = CpuUse>) -> Option<CpuUse> {
        let samples: Vec<CpuUse> = samples.into_iter().collect();
        let median = |f: fn(&CpuUse) -> f64| Spread::of(samples.iter().map(f)).median;
        (!samples.is_empty()).then(|| CpuUse {
            machine_busy: median(|c| c.machine_busy),
            process_cores: median(|c| c.process_cores),
            envoy_cores: median(|c| c.envoy_cores),
            helper_cores: median(|c| c.helper_cores),
            other_cores: median(|c| c.other_cores),
        })
    }
}

/// Clock ticks at one moment.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Ticks {
    /// Every CPU's busy ticks, summed.
    busy: u64,
    /// Every CPU's ticks, summed.
    total: u64,
    /// This process's user and system ticks.
    process: u64,
    /// The Envoys' user and system ticks.
    envoy: u64,
    /// The helpers' user and system ticks.
    helper: u64,
}

/// Samples at the window's start and end, in a task of its own.
pub fn over(window: Window, processes: Processes) -> JoinHandle<Option<CpuUse>> {
    tokio::spawn(async move {
        tokio::time::sleep_until(window.start.into()).await;
        let start = ticks(&processes);
        tokio::time::sleep_until(window.end.into()).await;
        let end = ticks(&processes);
        use_between(start?, end?, cpus())
    })
}

/// Every process descended from this one (children, their children, …), from `/proc`; empty
/// where there is none.
pub fn descendants() -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let mut children: BTreeMap<u32, Vec<u32>> = BTreeMap::new();
    for entry in entries.flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(|n| n.parse::<u32>().ok()) else {
            continue;
        };
        // A process may end between the listing and the read: it is skipped.
        if let Some(parent) = std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .ok()
            .and_then(|text| parent_pid(&text))
        {
            children.entry(parent).or_default().push(pid);
        }
    }
    let mut found = Vec::new();
    let mut next = vec![std::process::id()];
    while let Some(pid) = next.pop() {
        for child in children.remove(&pid).unwrap_or_default() {
            found.push(child);
            next.push(child);
        }
    }
    found.sort_unstable();
    found
}

/// The parent's pid, from a /proc/PID/stat.
fn parent_pid(stat: &str) -> Option<u32> {
    let rest = &stat[stat.rfind(')')? + 1..];
    // Field 4 of stat(5); the state (field 3) is the first after the name.
    rest.split_whitespace().nth(1)?.parse().ok()
}

fn cpus() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

fn ticks(processes: &Processes) -> Option<Ticks> {
    let (busy, total) = machine_ticks(&std::fs::read_to_string("/proc/stat").ok()?)?;
    let process = process_ticks(&std::fs::read_to_string("/proc/self/stat").ok()?)?;
    let sum = |pids: &[u32]| -> u64 {
        pids.iter()
            .map(|pid| {
                std::fs::read_to_string(format!("/proc/{pid}/stat"))
                    .ok()
                    .and_then(|text| process_ticks(&text))
                    .unwrap_or(0)
            })
            .sum()
    };
    Some(Ticks {
        busy,
        total,
        process,
        envoy: sum(&processes.envoys),
        helper: sum(&processes.helpers),
    })
}

/// Busy and total ticks of every CPU, from the `cpu` line of /proc/stat.
fn machine_ticks(stat: &str) -> Option<(u64, u64)> {
    let line = stat.lines().find(|l| l.starts_with("cpu "))?;
    let fields: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .filter_map(|f| f.parse().ok())
        .collect();
    // user nice system idle iowait irq softirq steal (guest time is already in user).
    let counted = fields.get(..8)?;
    let total: u64 = counted.iter().sum();
    let idle = counted[3] + counted[4];
    Some((total - idle, total))
}

/// User plus system ticks of a process, from its /proc/PID/stat.
fn process_ticks(stat: &str) -> Option<u64> {
    // The command name, in parentheses, may hold spaces: count fields after its end.
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // Fields 14 and 15 of stat(5); the state (field 3) is the first after the name.
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(utime + stime)
}

fn use_between(start: Ticks, end: Ticks, cpus: usize) -> Option<CpuUse> {
    let total = end.total.checked_sub(start.total)?;
    if total == 0 {
        return None;
    }
    // Every CPU's ticks summed: one core is total / cpus.
    let per_core = total as f64 / cpus.max(1) as f64;
    let cores = |from: u64, to: u64| to.saturating_sub(from) as f64 / per_core;
    let busy = cores(start.busy, end.busy);
    let process = cores(start.process, end.process);
    let envoy = cores(start.envoy, end.envoy);
    let helper = cores(start.helper, end.helper);
    Some(CpuUse {
        machine_busy: busy / cpus.max(1) as f64,
        process_cores: process,
        envoy_cores: envoy,
        helper_cores: helper,
        other_cores: (busy - process - envoy - helper).max(0.0),
    })
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn proc_files_parse() {
        let stat = "cpu  100 5 50 800 10 3 2 0 0 0\ncpu0 50 2 25 400 5 1 1 0 0 0\n";
        assert_eq!(machine_ticks(stat), Some((160, 970)));
        let process = "4242 (tokio runtime) S 1 4242 4242 0 -1 4194304 100 0 0 0 700 300 0 0 20 0 9 0";
        assert_eq!(process_ticks(process), Some(1000));
        assert_eq!(process_ticks("garbage"), None);
        assert_eq!(parent_pid(process), Some(1));
        assert_eq!(parent_pid("garbage"), None);
    }

    #[test]
    fn a_child_process_is_a_descendant() -> std::io::Result<()> {
        let mut child = std::process::Command::new("sleep").arg("5").spawn()?;
        let found = descendants();
        child.kill()?;
        child.wait()?;
        if cfg!(target_os = "linux") {
            assert!(found.contains(&child.id()), "{found:?}");
        }
        Ok(())
    }

    #[test]
    fn medians_are_taken_share_by_share() {
        let a = CpuUse {
            machine_busy: 0.5,
            process_cores: 0.2,
            envoy_cores: 0.6,
            helper_cores: 0.1,
            other_cores: 0.1,
        };
        let b = CpuUse {
            process_cores: 0.4,
            ..a
        };
        let c = CpuUse {
            envoy_cores: 1.0,
            ..a
        };
        let median = CpuUse::median_of([a, b, c]).expect("a median");
        assert_eq!((median.process_cores, median.envoy_cores), (0.2, 0.6));
        assert!((median.tree_cores() - 0.9).abs() < 1e-9);
        assert_eq!(CpuUse::median_of([]), None);
    }

    #[test]
    fn shares_are_in_cores() {
        let start = Ticks::default();
        // Two CPUs for one second at 100 ticks/s: 200 ticks, 150 busy.
        let end = Ticks {
            busy: 150,
            total: 200,
            process: 80,
            envoy: 40,
            helper: 10,
        };
        let cpu = use_between(start, end, 2).expect("a share");
        assert_eq!(cpu.machine_busy, 0.75);
        assert_eq!((cpu.process_cores, cpu.envoy_cores), (0.8, 0.4));
        assert_eq!(cpu.helper_cores, 0.1);
        assert!((cpu.other_cores - 0.2).abs() < 1e-9);
        assert_eq!(use_between(start, start, 2), None);
    }

    #[tokio::test]
    async fn a_window_is_sampled_on_linux() {
        let window = Window::starting_now(Duration::ZERO, Duration::from_millis(200));
        let cpu = over(window, Processes::envoys(vec![std::process::id()]))
            .await
            .expect("the sampler");
        if cfg!(target_os = "linux") {
            let cpu = cpu.expect("CPU use on Linux");
            assert!((0.0..=1.0).contains(&cpu.machine_busy), "{cpu:?}");
        }
    }
}
