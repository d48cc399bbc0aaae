# Shortcuts for the commands the README gives; each recipe runs exactly that command, so
# nothing here is needed to work on portcullis. `just --list` shows them.

# List the recipes.
default:
    @just --list

# Every test in the workspace.
test:
    cargo test --workspace

# What CI runs: rustfmt, clippy, then the tests.
ci:
    bash .ci/run

# Start the embedded gateway and run every conformance suite against it.
conformance:
    cargo run --release -- conformance

# Run the gateway (real Envoy, echo backends) on a folder of resources.
run DIR:
    cargo run --release -- run --resources {{ quote(DIR) }} --echo-backends

# Show offline what the gateway would do with a folder of resources.
translate DIR:
    cargo run --release -- translate --resources {{ quote(DIR) }}

# Load-test the embedded gateway with goose; extra goose options go after (e.g. `just load --users 50`).
load *ARGS:
    cargo run --release -p portcullis-load -- --users 20 --run-time 10s {{ ARGS }}

# Benchmark the gateway against bare Envoy and Envoy's native filters; options go after.
bench *ARGS:
    cargo run --release -- bench {{ ARGS }}

# Re-record the translator's snapshots, then list the files that changed.
snapshots:
    INSTA_UPDATE=always cargo test -p portcullis-translate
    git status --short -- snapshots reference/translate

# The optional end-to-end run on a kind cluster.
kind:
    bash kind/run.sh
