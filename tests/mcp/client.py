"""Drive `infra mcp` with the official Python MCP SDK (PyPI `mcp`), for tests/mcp.rs.

Usage: python3 client.py INFRA PROJECT_DIR < steps.json

Each step is one of {"list_tools": true}, {"list_resources": true},
{"read": URI} or {"tool": NAME, "args": {...}}; the results, one per step,
are printed as one JSON list. The server gets this process's environment.
"""

import json
import os
import sys

import anyio
from mcp import ClientSession, MCPError, StdioServerParameters
from mcp.client.stdio import stdio_client


def content_text(blocks):
    return "\n".join(getattr(b, "text", "") for b in blocks)


async def run(infra, project, steps):
    server = StdioServerParameters(command=infra, args=["-C", project, "mcp"], env=dict(os.environ))
    out = []
    async with stdio_client(server) as (read, write):
        async with ClientSession(read, write) as session:
            # MCP_MODERN=1: the current revision's discovery instead of the
            # initialize handshake older clients use.
            if os.environ.get("MCP_MODERN") == "1":
                await session.discover()
                name = session.server_info.name
            else:
                init = await session.initialize()
                name = init.server_info.name
            out.append({"protocol": session.protocol_version, "server": name})
            for step in steps:
                try:
                    if step.get("list_tools"):
                        tools = await session.list_tools()
                        out.append({"tools": [
                            {"name": t.name, "input": t.input_schema, "output": t.output_schema}
                            for t in tools.tools]})
                    elif step.get("list_resources"):
                        res = await session.list_resources()
                        out.append({"resources": [
                            {"uri": str(r.uri), "mime": r.mime_type} for r in res.resources]})
                    elif "read" in step:
                        res = await session.read_resource(step["read"])
                        out.append({"contents": [
                            {"uri": str(c.uri), "mime": c.mime_type, "text": getattr(c, "text", None)}
                            for c in res.contents]})
                    else:
                        res = await session.call_tool(step["tool"], step.get("args", {}))
                        out.append({"is_error": res.is_error,
                                    "structured": res.structured_content,
                                    "text": content_text(res.content)})
                except MCPError as e:
                    out.append({"error": {"code": e.code, "message": e.message}})
                except Exception as e:  # noqa: BLE001 - reported to the test, which decides
                    out.append({"exception": f"{type(e).__name__}: {e}"})
    print(json.dumps(out))


if __name__ == "__main__":
    anyio.run(run, sys.argv[1], sys.argv[2], json.load(sys.stdin))
