//! The protocol side: an `rmcp` `ServerHandler` written by hand (not with the
//! tool macros), so that every `tools/call` goes through `Infra::call`, where
//! the allowlist is enforced. Tools carry input and output schemas; results are
//! structured content plus a short text for clients that show only text.

use std::sync::Arc;

use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, ErrorCode,
    Implementation, JsonObject, ListResourcesResult, ListToolsResult, PaginatedRequestParams,
    ReadResourceRequestParams, ReadResourceResponse, ReadResourceResult, Resource,
    ResourceContents, ServerCapabilities, ServerConfig, Tool,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData as McpError, RoleServer, ServerHandler, ServiceExt};
use serde_json::{json, Value};

use super::{Infra, Outcome};
use crate::error::{Error, Result};

/// JSON-RPC error for "this tool exists but is not allowed here". In the
/// implementation-defined range, clear of the codes SDKs already give meaning
/// (-32000/-32001 connection/timeout, -32002 resource not found).
const NOT_ALLOWED: ErrorCode = ErrorCode(-32010);

const INSTRUCTIONS: &str = "infra turns requests into reviewed infrastructure changes. \
Use `propose` to put a change on a new branch for a person to review; it never applies \
anything. `plan` shows what an apply would do and its digest; a person applies with \
`infra apply --expect-digest DIGEST`. Spec files are resources (infra://spec/...), as are \
the schema (infra://schema) and the last plan (infra://plan/last).";

struct Handler(Arc<Infra>);

pub async fn serve(infra: Infra) -> Result<()> {
    let service = Handler(Arc::new(infra))
        .serve(rmcp::transport::stdio())
        .await
        .map_err(|e| {
            Error::new(format!(
                "infra mcp: the client did not start a session: {e}"
            ))
        })?;
    service
        .waiting()
        .await
        .map_err(|e| Error::new(format!("infra mcp: {e}")))?;
    Ok(())
}

fn object(v: Value) -> Arc<JsonObject> {
    match v {
        Value::Object(map) => Arc::new(map),
        _ => Arc::new(JsonObject::new()),
    }
}

impl ServerHandler for Handler {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(
            ServerCapabilities::builder()
                .enable_tools()
                .enable_resources()
                .build(),
        )
        .with_server_info(Implementation::new("infra", env!("CARGO_PKG_VERSION")))
        .with_instructions(INSTRUCTIONS)
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> std::result::Result<ListToolsResult, McpError> {
        let tools = self
            .0
            .tools()
            .into_iter()
            .map(|d| {
                Tool::new(d.name, d.description, object(d.input))
                    .with_raw_output_schema(object(d.output))
            })
            .collect();
        Ok(ListToolsResult::with_all_items(tools))
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> std::result::Result<CallToolResponse, McpError> {
        let infra = self.0.clone();
        let name = request.name.to_string();
        // Tools run infra and git as child processes: off the protocol's threads.
        let outcome = tokio::task::spawn_blocking(move || infra.call(&name, request.arguments))
            .await
            .map_err(|e| McpError::internal_error(format!("the tool stopped: {e}"), None))?;
        match outcome {
            Outcome::Done(value) => {
                let text = summary(&value);
                let mut result = CallToolResult::structured(value);
                result.content = vec![ContentBlock::text(text)];
                Ok(result.into())
            }
            Outcome::ToolError(message) => {
                Ok(CallToolResult::error(vec![ContentBlock::text(message)]).into())
            }
            Outcome::Refused(message) => Err(McpError::new(NOT_ALLOWED, message, None)),
        }
    }

    async fn list_resources(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> std::result::Result<ListResourcesResult, McpError> {
        let items = self
            .0
            .resources()
            .into_iter()
            .map(|(uri, mime, description)| {
                let name = uri.rsplit('/').next().unwrap_or(&uri).to_string();
                Resource::new(uri, name)
                    .with_mime_type(mime)
                    .with_description(description)
            })
            .collect();
        Ok(ListResourcesResult::with_all_items(items))
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> std::result::Result<ReadResourceResponse, McpError> {
        match self.0.read(&request.uri) {
            Some((text, mime)) => {
                Ok(ReadResourceResult::new(vec![
                    ResourceContents::text(text, request.uri.clone()).with_mime_type(mime)
                ])
                .into())
            }
            None => Err(McpError::resource_not_found(
                format!(
                    "no resource {}",
                    request.uri.chars().take(200).collect::<String>()
                ),
                Some(json!({ "uri": request.uri.chars().take(200).collect::<String>() })),
            )),
        }
    }
}

/// One line for clients that show text only: the Markdown of a plan, the
/// proposal's branch, or the JSON itself, shortened.
fn summary(v: &Value) -> String {
    if let Some(md) = v["markdown"].as_str() {
        return md.to_string();
    }
    if let Some(branch) = v["branch"].as_str() {
        return format!(
            "Proposed on branch {branch}: {}\n{}",
            v["summary"].as_str().unwrap_or_default(),
            v["diff"].as_str().unwrap_or_default()
        );
    }
    let text = serde_json::to_string_pretty(v).unwrap_or_default();
    text.chars().take(20_000).collect()
}
