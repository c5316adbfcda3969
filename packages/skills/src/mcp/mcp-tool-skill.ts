import { AgentrixError } from '@agentrix/core';
import { truncateText } from '@agentrix/core/implement';
import type { CallToolResult, Tool as McpTool } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import type { Skill } from '../skill.js';
import type { McpConnection } from './mcp-connection.js';
import { DEFAULT_CALL_TIMEOUT_MS, DEFAULT_RECONNECT_WAIT_MS } from './mcp-server-options.js';

/** The input validator of an MCP tool: its JSON Schema as zod, or a plain object check when zod cannot express it. */
export function inputSchemaOf(tool: McpTool): z.ZodType<Record<string, unknown>> {
  try {
    return z.fromJSONSchema(tool.inputSchema as Parameters<typeof z.fromJSONSchema>[0]) as z.ZodType<
      Record<string, unknown>
    >;
  } catch {
    return z.record(z.string(), z.unknown());
  }
}

/** The skill for tool `tool` of the server behind `connection`, registered as `name`. */
export function mcpToolSkill(
  name: string,
  tool: McpTool,
  connection: McpConnection,
): Skill<Record<string, unknown>, string> {
  const options = connection.options;
  const readOnly = tool.annotations?.readOnlyHint === true;
  const canParallel =
    typeof options.canParallel === 'function' ? options.canParallel(tool.name) : (options.canParallel ?? readOnly);
  const approval = options.requiresApproval;
  const requiresApproval = Array.isArray(approval) ? approval.includes(tool.name) : approval === true;
  const maxResultChars = options.maxResultChars ?? 50_000;
  // The executor's deadline covers a wait for a reconnect plus the call itself, so it never cuts
  // the server's own `callTimeoutMs` short (that one fires first, and cancels the request).
  const timeoutMs =
    (options.callTimeoutMs ?? DEFAULT_CALL_TIMEOUT_MS) + (options.reconnectWaitMs ?? DEFAULT_RECONNECT_WAIT_MS);
  const parameters: Record<string, unknown> = { type: 'object', ...(tool.inputSchema as Record<string, unknown>) };
  delete parameters.$schema;
  return Object.freeze({
    name,
    description: tool.description ?? tool.title ?? `Tool "${tool.name}" of MCP server "${connection.name}"`,
    input: inputSchemaOf(tool),
    parameters,
    ...(tool.outputSchema ? { outputParameters: tool.outputSchema as Record<string, unknown> } : {}),
    timeoutMs,
    costTier: options.costTier ?? 'med',
    canParallel,
    requiresApproval,
    tags: Object.freeze(['mcp', `mcp:${connection.name}`, ...(options.tags ?? [])]),
    source: Object.freeze({ kind: 'mcp' as const, server: connection.name, tool: tool.name }),
    async execute(input: Record<string, unknown>, context: { signal: AbortSignal }) {
      const result = await connection.callTool(tool.name, input, { signal: context.signal });
      const text = formatToolResult(result, maxResultChars);
      if (result.isError) {
        throw new AgentrixError(
          'TOOL_FAILED',
          `Tool "${tool.name}" of MCP server "${connection.name}" reported an error: ${text}`,
          {
            toolName: name,
            retryable: false,
            details: { server: connection.name },
          },
        );
      }
      return text;
    },
  });
}

/**
 * An MCP tool result as text for the model: text blocks as they are, other blocks as short
 * placeholders (`[image image/png, 1234 bytes]`), structured content as JSON when there is no
 * text; cut to `maxChars` with a marker.
 */
export function formatToolResult(result: CallToolResult, maxChars: number): string {
  const parts: string[] = [];
  for (const block of result.content ?? []) {
    switch (block.type) {
      case 'text':
        parts.push(block.text);
        break;
      case 'image':
      case 'audio':
        parts.push(`[${block.type} ${block.mimeType}, ${Math.floor((block.data.length * 3) / 4)} bytes]`);
        break;
      case 'resource': {
        const resource = block.resource;
        parts.push(
          'text' in resource
            ? resource.text
            : `[resource ${resource.uri}${resource.mimeType ? ` ${resource.mimeType}` : ''}]`,
        );
        break;
      }
      case 'resource_link':
        parts.push(`[resource_link ${block.uri}${block.name ? ` ${block.name}` : ''}]`);
        break;
      default:
        parts.push(JSON.stringify(block));
    }
  }
  if (parts.length === 0 && result.structuredContent !== undefined)
    parts.push(JSON.stringify(result.structuredContent));
  return truncateText(parts.join('\n'), maxChars);
}
