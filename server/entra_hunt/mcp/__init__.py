"""The MCP surface: tools, prompts and resources over the hunt runner."""
