declare module 'dynalite' {
  import type { Server } from 'node:http';
  /** dynalite ships no types; this is the part the project uses. */
  export default function dynalite(options?: { createTableMs?: number; deleteTableMs?: number; updateTableMs?: number }): Server;
}
