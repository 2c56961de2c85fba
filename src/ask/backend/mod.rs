//! Model backends: Claude (Messages API, tool use) and OpenAI-compatible chat
//! completions (OpenAI, Ollama, llama.cpp server, vLLM).
