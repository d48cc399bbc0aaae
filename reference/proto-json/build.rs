//! Compiles the Envoy `.proto` sources that ship inside the `envoy-types`
//! package into a binary `FileDescriptorSet` (`$OUT_DIR/envoy_descriptors.bin`).
//!
//! `envoy-types` only ships prost-generated structs, which carry no
//! reflection data; the JSON renderer needs descriptors to know field names,
//! enum names and nested types. Rather than vendoring ~7 MB of protos we reuse
//! the exact copy that the linked `envoy-types` was generated from, so the two
//! can never disagree.

use std::collections::HashSet;
use std::env;
use std::fs;
use std::path::{Path, PathBuf};

use protox::file::{ChainFileResolver, File, FileResolver, GoogleFileResolver, IncludeFileResolver};
use protox::prost::Message;

/// Points at an `envoy-types` `proto/` directory explicitly (e.g. for vendored
/// sources or offline builds with an unusual `CARGO_HOME`).
const OVERRIDE_ENV: &str = "PORTCULLIS_ENVOY_PROTO_DIR";

/// The include dir holding Envoy's own API.
const API_INCLUDE: &str = "data-plane-api";

/// Include roots inside `envoy-types/proto`, in the layout of envoy-types 0.7.
const INCLUDE_DIRS: &[&str] = &[
    API_INCLUDE,
    "xds",
    "protoc-gen-validate",
    "googleapis",
    "cel-spec/proto",
    "opentelemetry-proto",
    "client_model",
    "ratelimit",
];

/// Every Envoy proto under this directory becomes part of the pool, so any
/// extension that may appear inside a `typed_config` can be rendered.
const COMPILED_TREE: &str = "envoy";

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-env-changed={OVERRIDE_ENV}");
    println!("cargo::rerun-if-env-changed=CARGO_HOME");

    let proto_root = locate_proto_root();
    println!("cargo::rerun-if-changed={}", proto_root.display());

    let includes: Vec<PathBuf> = INCLUDE_DIRS
        .iter()
        .map(|dir| proto_root.join(dir))
        .filter(|dir| dir.is_dir())
        .collect();

    let api_dir = proto_root.join(API_INCLUDE);
    let mut files = Vec::new();
    collect_protos(&api_dir.join(COMPILED_TREE), &mut files);
    // Names relative to the include dir, sorted so the descriptor set (and
    // thus the crate) is reproducible.
    let mut names: Vec<String> = files
        .iter()
        .filter_map(|path| path.strip_prefix(&api_dir).ok())
        .map(|rel| {
            rel.components()
                .map(|c| c.as_os_str().to_string_lossy())
                .collect::<Vec<_>>()
                .join("/")
        })
        .collect();
    names.sort();
    assert!(
        !names.is_empty(),
        "no .proto files under {}; is this really an envoy-types proto dir?",
        api_dir.join(COMPILED_TREE).display()
    );

    let encoded = compile(&includes, &names);

    let out_dir = PathBuf::from(env::var_os("OUT_DIR").expect("cargo always sets OUT_DIR"));
    fs::write(out_dir.join("envoy_descriptors.bin"), encoded)
        .expect("OUT_DIR must be writable by the build script");
}

/// Upstream sources that protox resolves differently from protoc, patched to
/// the fully-qualified name protoc picks: `(file, relative name, absolute name)`.
///
/// protoc ignores packages declared only by indirect imports when resolving
/// relative names; protox does not, so inside `envoy.extensions.clusters.*`
/// the name `common.dynamic_forward_proxy.v3.X` hits the transitively
/// imported `envoy.extensions.clusters.common` package and fails.
const SOURCE_PATCHES: &[(&str, &str, &str)] = &[(
    "envoy/extensions/clusters/dynamic_forward_proxy/v3/cluster.proto",
    " common.dynamic_forward_proxy.v3.DnsCacheConfig ",
    " envoy.extensions.common.dynamic_forward_proxy.v3.DnsCacheConfig ",
)];

/// Include-path resolver that applies [`SOURCE_PATCHES`].
struct PatchingResolver(ChainFileResolver);

impl FileResolver for PatchingResolver {
    fn resolve_path(&self, path: &Path) -> Option<String> {
        self.0.resolve_path(path)
    }

    fn open_file(&self, name: &str) -> Result<File, protox::Error> {
        let file = self.0.open_file(name)?;
        let patch = SOURCE_PATCHES.iter().find(|(patched, from, _)| {
            *patched == name && file.source().is_some_and(|src| src.contains(from))
        });
        match (patch, file.source()) {
            (Some((_, from, to)), Some(source)) => File::from_source(name, &source.replace(from, to)),
            // Unpatched, or upstream already fixed it.
            _ => Ok(file),
        }
    }
}

/// Compiles the named files (relative to an include dir) with their imports
/// into an encoded `FileDescriptorSet`.
///
/// Same root cause as [`SOURCE_PATCHES`], at scale: once any file declares
/// e.g. `envoy.extensions.config.*`, protox resolves every relative
/// `config.core.v3.X` inside `envoy.extensions.*` against it. Files that fail
/// for that reason in the shared compiler are compiled again in a fresh one
/// (where only their own imports are loaded) and their descriptors, whose
/// type references are fully qualified by then, are merged in. A file that
/// fails even alone is skipped with a warning: its messages then render as
/// `UnknownType` instead of failing the build.
fn compile(includes: &[PathBuf], names: &[String]) -> Vec<u8> {
    let new_compiler = || {
        let mut chain = ChainFileResolver::new();
        for include in includes {
            chain.add(IncludeFileResolver::new(include.clone()));
        }
        // google/protobuf/*.proto are built into protox.
        chain.add(GoogleFileResolver::new());
        let mut compiler = protox::Compiler::with_file_resolver(PatchingResolver(chain));
        compiler.include_imports(true);
        compiler
    };

    let mut shared = new_compiler();
    let mut isolated = Vec::new();
    for name in names {
        if shared.open_file(name).is_ok() {
            continue;
        }
        let mut alone = new_compiler();
        match alone.open_file(name) {
            Ok(_) => isolated.push(alone.file_descriptor_set()),
            Err(err) => println!("cargo::warning=skipping {name}: {err}"),
        }
    }

    let mut merged = shared.file_descriptor_set();
    let mut seen: HashSet<String> = merged.file.iter().filter_map(|f| f.name.clone()).collect();
    // Each isolated set is dependency-ordered, so appending the files not yet
    // present keeps the merged set dependency-ordered too.
    for set in isolated {
        for file in set.file {
            if file.name.as_ref().is_some_and(|name| seen.insert(name.clone())) {
                merged.file.push(file);
            }
        }
    }
    merged.encode_to_vec()
}

/// Finds `envoy-types-<version>/proto`, preferring the explicit override.
fn locate_proto_root() -> PathBuf {
    if let Some(dir) = env::var_os(OVERRIDE_ENV) {
        let dir = PathBuf::from(dir);
        assert!(
            dir.is_dir(),
            "{OVERRIDE_ENV}={} is not a directory",
            dir.display()
        );
        return dir;
    }

    let version = envoy_types_version();
    let cargo_home = env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| env::var_os("HOME").map(|home| PathBuf::from(home).join(".cargo")))
        .expect("neither CARGO_HOME nor HOME is set; set PORTCULLIS_ENVOY_PROTO_DIR");
    let registry_src = cargo_home.join("registry").join("src");

    // One subdirectory per registry index (crates.io normally); the package
    // may have been unpacked under any of them.
    let mut candidates: Vec<PathBuf> = fs::read_dir(&registry_src)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|entry| entry.path().join(format!("envoy-types-{version}")).join("proto"))
                .filter(|dir| dir.is_dir())
                .collect()
        })
        .unwrap_or_default();
    candidates.sort();
    match candidates.into_iter().next() {
        Some(dir) => dir,
        None => panic!(
            "could not find envoy-types-{version}/proto under {}; \
             run `cargo fetch` or set {OVERRIDE_ENV} to the package's proto/ directory",
            registry_src.display()
        ),
    }
}

/// Reads the locked `envoy-types` version from the workspace's `Cargo.lock`,
/// so a version bump re-points the build at the matching protos.
fn envoy_types_version() -> String {
    let manifest_dir =
        PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let lock_path = manifest_dir
        .ancestors()
        .map(|dir| dir.join("Cargo.lock"))
        .find(|path| path.is_file())
        .unwrap_or_else(|| {
            panic!(
                "no Cargo.lock above {}; set {OVERRIDE_ENV}",
                manifest_dir.display()
            )
        });
    println!("cargo::rerun-if-changed={}", lock_path.display());

    let lock = fs::read_to_string(&lock_path).expect("Cargo.lock is readable");
    // Cargo.lock lists `name = ".."` then `version = ".."` per package, sorted
    // by version, so the last match is the newest if several are locked.
    let mut lines = lock.lines();
    let mut found = None;
    while let Some(line) = lines.next() {
        if line.trim() == r#"name = "envoy-types""# {
            found = lines
                .next()
                .and_then(|next| next.trim().strip_prefix("version = "))
                .map(|v| v.trim_matches('"').to_owned());
        }
    }
    found.unwrap_or_else(|| {
        panic!(
            "envoy-types is not in {}; set {OVERRIDE_ENV}",
            lock_path.display()
        )
    })
}

/// Recursively collects `*.proto` files below `dir`.
fn collect_protos(dir: &Path, out: &mut Vec<PathBuf>) {
    let entries =
        fs::read_dir(dir).unwrap_or_else(|err| panic!("cannot read proto dir {}: {err}", dir.display()));
    for entry in entries {
        let path = entry.expect("directory entries are readable").path();
        if path.is_dir() {
            collect_protos(&path, out);
        } else if path.extension().is_some_and(|ext| ext == "proto") {
            out.push(path);
        }
    }
}
