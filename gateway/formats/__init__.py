"""Translation between the four API dialects through one hub (see hub.py).

One module per dialect (openai_chat, anthropic, gemini, responses), each with the same
pure functions: request/response/stream/error, to and from the hub. No IO anywhere here.
"""
