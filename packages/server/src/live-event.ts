/** One event of the stream as the server keeps it: its payload serialized once, at publication. */
export interface LiveEvent {
  id: number;
  name: string;
  at: number;
  /** The agents the payload names (for `agent=` filters). */
  agents: string[] | undefined;
  /** The payload as JSON. */
  json: string;
  /** The SSE frame, encoded on first use and shared by every subscriber. */
  frame?: Uint8Array;
}

const encoder = new TextEncoder();

export function sseFrame(event: LiveEvent): Uint8Array {
  event.frame ??= encoder.encode(`id: ${event.id}\nevent: ${event.name}\ndata: ${event.json}\n\n`);
  return event.frame;
}

/** The event as JSON for REST answers: `{ id, name, at, data }`, reusing the serialized payload. */
export function eventJson(event: LiveEvent): string {
  return `{"id":${event.id},"name":${JSON.stringify(event.name)},"at":${event.at},"data":${event.json}}`;
}
