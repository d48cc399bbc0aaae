//! Where the CPU went during a measured window: the whole machine, this process (load
//! generator, echo backends, rate-limit service), the Envoys, and the rest (Redis, …), from
//! `/proc` (Linux; `None` elsewhere).

use serde::Serialize;
use tokio::task::JoinHandle;

use super::tally::Window;

/// CPU use over a window, in cores (1.0 = one CPU busy all the time).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct CpuUse {
    /// The machine's CPUs, busy share (0 to 1).
    pub machine_busy: f64,
    /// This process.
    pub process_cores: f64,
    /// The Envoy processes named.
    pub envoy_cores: f64,
    /// Everything else that kept the machine busy.
    pub other_cores: f64,
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
}

/// Samples at the window's start and end, in a task of its own.
pub fn over(window: Window, envoys: Vec<u32>) -> JoinHandle<Option<CpuUse>> {
    tokio::spawn(async move {
        tokio::time::sleep_until(window.start.into()).await;
        let start = ticks(&envoys);
        tokio::time::sleep_until(window.end.into()).await;
        let end = ticks(&envoys);
        use_between(start?, end?, cpus())
    })
}

fn cpus() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

fn ticks(envoys: &[u32]) -> Option<Ticks> {
    let (busy, total) = machine_ticks(&std::fs::read_to_string("/proc/stat").ok()?)?;
    let process = process_ticks(&std::fs::read_to_string("/proc/self/stat").ok()?)?;
    let mut envoy = 0;
    for pid in envoys {
        envoy += std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .ok()
            .and_then(|text| process_ticks(&text))
            .unwrap_or(0);
    }
    Some(Ticks {
        busy,
        total,
        process,
        envoy,
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
    Some(CpuUse {
        machine_busy: busy / cpus.max(1) as f64,
        process_cores: process,
        envoy_cores: envoy,
        other_cores: (busy - process - envoy).max(0.0),
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
    }

    #[test]
    fn shares_are_in_cores() {
        let start = Ticks::default();
        // Two CPUs for one second at 100 ticks/s: 200 ticks, 150 busy.
        let end = Ticks {
            busy: 150,
            total: 200,
            process: 80,
            envoy: 50,
        };
        let cpu = use_between(start, end, 2).expect("a share");
        assert_eq!(cpu.machine_busy, 0.75);
        assert_eq!((cpu.process_cores, cpu.envoy_cores), (0.8, 0.5));
        assert!((cpu.other_cores - 0.2).abs() < 1e-9);
        assert_eq!(use_between(start, start, 2), None);
    }

    #[tokio::test]
    async fn a_window_is_sampled_on_linux() {
        let window = Window::starting_now(Duration::ZERO, Duration::from_millis(200));
        let cpu = over(window, vec![std::process::id()]).await.expect("the sampler");
        if cfg!(target_os = "linux") {
            let cpu = cpu.expect("CPU use on Linux");
            assert!((0.0..=1.0).contains(&cpu.machine_busy), "{cpu:?}");
        }
    }
}
