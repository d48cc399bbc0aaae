//! A stable-toolchain stand-in for the cargo-fuzz targets in `fuzz/`: thousands of seeded,
//! deterministic mutations of the seed corpus through both parsers, none of which may panic.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;

use portcullis_config_service::apk_conf::ApiType;
use portcullis_config_service::{ApkConf, generate_apk_conf, parse_apk_conf};

/// SplitMix64: a fixed seed gives the same inputs on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

fn seeds(target: &str) -> Vec<Vec<u8>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.expect("a corpus entry").path())
        .collect();
    files.sort();
    let seeds: Vec<Vec<u8>> = files.iter().map(|f| std::fs::read(f).expect("a seed")).collect();
    assert!(
        seeds.len() >= 3,
        "the corpus of {target} has {} seeds",
        seeds.len()
    );
    seeds
}

/// Tokens that steer YAML and JSON parsers into their corners.
const TOKENS: &[&str] = &[
    "{",
    "}",
    "[",
    "]",
    ":",
    ": ",
    "- ",
    "\n",
    "\n  ",
    "\t",
    "\"",
    "'",
    "&a ",
    "*a",
    "<<: *a",
    "!!str ",
    "!!binary ",
    "? ",
    "|",
    ">-",
    "#",
    "---\n",
    "...\n",
    "%YAML 1.2\n",
    "\\u0000",
    "$ref",
    "#/",
    "~",
    "null",
    "-1",
    "1e999",
    "0x10",
    ".inf",
    "\u{feff}",
    "\u{0}",
    "é",
    "{{",
    "}}",
    "/{id}",
    "3.0.0",
];

fn mutate(rng: &mut Rng, seeds: &[Vec<u8>]) -> Vec<u8> {
    let mut data = seeds[rng.below(seeds.len())].clone();
    for _ in 0..=rng.below(4) {
        match rng.below(7) {
            0 if !data.is_empty() => {
                let at = rng.below(data.len());
                data[at] ^= 1 << rng.below(8);
            }
            1 => data.truncate(rng.below(data.len() + 1)),
            2 => {
                // Splice: a head of this input and a tail of another seed.
                let other = &seeds[rng.below(seeds.len())];
                let cut = rng.below(data.len() + 1);
                let from = rng.below(other.len() + 1);
                data.truncate(cut);
                data.extend_from_slice(&other[from..]);
            }
            3 => {
                let at = rng.below(data.len() + 1);
                let token = TOKENS[rng.below(TOKENS.len())].as_bytes();
                data.splice(at..at, token.iter().copied());
            }
            4 if !data.is_empty() => {
                let start = rng.below(data.len());
                let end = start + rng.below(data.len() - start + 1);
                data.drain(start..end);
            }
            5 if !data.is_empty() => {
                // Duplicate a line-sized chunk in place.
                let start = rng.below(data.len());
                let end = (start + rng.below(80)).min(data.len());
                let chunk = data[start..end].to_vec();
                data.splice(start..start, chunk);
            }
            _ => {
                let at = rng.below(data.len() + 1);
                let byte = (rng.next() & 0xff) as u8;
                data.insert(at, byte);
            }
        }
    }
    data
}

/// Inputs no mutation reaches quickly: deep nesting and long scalars.
fn extremes() -> Vec<String> {
    let mut out = Vec::new();
    for depth in [64, 200, 2_000] {
        out.push(format!("{}{}", "[".repeat(depth), "]".repeat(depth)));
        out.push("{\"a\":".repeat(depth) + "1" + &"}".repeat(depth));
        out.push("- ".repeat(depth) + "x");
        let block: String = (0..depth.min(300))
            .map(|i| format!("{}k{i}:\n", "  ".repeat(i)))
            .collect();
        out.push(block);
        out.push(format!(
            "openapi: 3.0.0\ninfo: {{title: t, version: v}}\npaths: {}",
            "{\"/a\":".repeat(depth)
        ));
        out.push(format!(
            "name: x\nbasePath: /x\noperations: {}",
            "[".repeat(depth)
        ));
    }
    let long = "a".repeat(64 * 1024);
    out.push(format!(
        "name: \"{long}\"\nbasePath: \"/{long}\"\nversion: \"1\"\n"
    ));
    out.push(format!(
        "openapi: 3.0.0\ninfo:\n  title: \"{long}\"\n  version: \"1\"\nservers:\n  - url: \"http://{long}\"\npaths:\n  /{long}:\n    get: {{}}\n"
    ));
    out.push(format!(
        "swagger: \"2.0\"\ninfo: {{title: t, version: \"1\"}}\nhost: {long}\npaths: {{}}\n"
    ));
    out.push("a: &a [*a, *a]\nb: *a\n".to_string());
    out.push(
        (0..200)
            .map(|i| format!("a{i}: &a{i} [*a{}, *a{}]\n", i.max(1) - 1, i.max(1) - 1))
            .collect(),
    );
    out
}

/// Runs `parse` on every input, collecting the ones that panicked.
fn panics(inputs: impl Iterator<Item = String>, parse: impl Fn(&str)) -> Vec<String> {
    let mut failed = Vec::new();
    for input in inputs {
        if catch_unwind(AssertUnwindSafe(|| parse(&input))).is_err() {
            failed.push(input.chars().take(300).collect());
        }
    }
    failed
}

fn inputs(target: &str, seed: u64, count: usize) -> impl Iterator<Item = String> {
    let seeds = seeds(target);
    let mut rng = Rng(seed);
    let mutated: Vec<String> = (0..count)
        .map(|_| String::from_utf8_lossy(&mutate(&mut rng, &seeds)).into_owned())
        .collect();
    let originals: Vec<String> = seeds
        .iter()
        .map(|s| String::from_utf8_lossy(s).into_owned())
        .collect();
    originals.into_iter().chain(mutated).chain(extremes())
}

/// The property of `fuzz/fuzz_targets/apk_conf.rs`: what parses prints and parses back equal.
fn apk_conf(text: &str) {
    if let Ok(conf) = parse_apk_conf(text) {
        let printed = conf.to_yaml();
        match parse_apk_conf(&printed) {
            Ok(again) => assert_eq!(again, conf, "printed as:\n{printed}"),
            Err(error) => panic!("the printed apk-conf does not parse: {error}\n{printed}"),
        }
    }
}

/// The property of `fuzz/fuzz_targets/openapi.rs`: what is generated prints and reads back
/// equal (validation aside: the generator does not validate).
fn openapi(text: &str) {
    if let Ok(conf) = generate_apk_conf(text, ApiType::Rest) {
        let printed = conf.to_yaml();
        match serde_yaml::from_str::<ApkConf>(&printed) {
            Ok(again) => assert_eq!(again, conf, "printed as:\n{printed}"),
            Err(error) => panic!("the generated apk-conf does not read back: {error}\n{printed}"),
        }
    }
}

#[test]
fn apk_conf_parser_never_panics() {
    let failed = panics(inputs("apk_conf", 0x00a9_c0f0, 1_500), apk_conf);
    assert!(
        failed.is_empty(),
        "{} inputs panicked, first: {:?}",
        failed.len(),
        failed.first()
    );
}

#[test]
fn definition_generator_never_panics() {
    let failed = panics(inputs("openapi", 0x0ba5_e300, 1_500), openapi);
    assert!(
        failed.is_empty(),
        "{} inputs panicked, first: {:?}",
        failed.len(),
        failed.first()
    );
}

/// The mutator is seeded: the same seed gives the same inputs, so a failure replays.
#[test]
fn mutations_are_deterministic_and_varied() {
    let a: Vec<String> = inputs("apk_conf", 7, 50).collect();
    let b: Vec<String> = inputs("apk_conf", 7, 50).collect();
    assert_eq!(a, b);
    let distinct: std::collections::BTreeSet<&String> = a.iter().collect();
    assert!(distinct.len() > 40, "only {} distinct inputs", distinct.len());
}

/// Found by the `apk_conf` fuzz target: an empty `endpointConfigurations` was left out when
/// printed, and the printed document then lacked a required field.
#[test]
fn empty_endpoint_configurations_print_and_parse_back() -> anyhow::Result<()> {
    let text = "name: a\nbasePath: /a\nversion: \"1\"\nendpointConfigurations: {}\n\
                operations:\n  - {target: /a, verb: GET}\n";
    let conf = parse_apk_conf(text)?;
    let printed = conf.to_yaml();
    assert!(printed.contains("\nendpointConfigurations: {}\n"), "{printed}");
    assert_eq!(parse_apk_conf(&printed)?, conf);
    Ok(())
}

/// The same hole from the generator: a definition whose first server has an empty URL gives
/// no endpoints, and its apk-conf must still read back.
#[test]
fn generated_conf_without_endpoints_reads_back() -> anyhow::Result<()> {
    let definition = "openapi: 3.0.0\ninfo: {title: T, version: \"1\"}\nservers:\n  - url: \"\"\n\
                      paths:\n  /a:\n    get:\n      responses: {}\n";
    let conf = generate_apk_conf(definition, ApiType::Rest)?;
    assert!(conf.endpoint_configurations.is_empty());
    let printed = conf.to_yaml();
    assert_eq!(serde_yaml::from_str::<ApkConf>(&printed)?, conf);
    assert_eq!(parse_apk_conf(&printed)?, conf);
    Ok(())
}
