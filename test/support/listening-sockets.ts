/**
 * The listening TCP sockets of processes, read from Linux's `/proc` (no traffic is
 * sent): `/proc/net/tcp` and `/proc/net/tcp6` list every socket of the network
 * namespace with its inode, and `/proc/<pid>/fd` links name the inodes a process holds.
 */

import { readdirSync, readFileSync, readlinkSync } from "node:fs";

/** One listening socket. */
export interface ListeningSocket {
  /** The bound address: dotted IPv4 (an IPv4-mapped IPv6 address is shown as IPv4), else the IPv6 hex groups. */
  readonly address: string;
  readonly port: number;
  readonly inode: string;
  readonly family: "tcp" | "tcp6";
}

/** TCP state LISTEN in `/proc/net/tcp*`. */
const LISTEN = "0A";

/** Four little-endian hex bytes → dotted IPv4. */
function ipv4(hex: string): string {
  const bytes = (hex.match(/../g) ?? []).map((b) => Number.parseInt(b, 16));
  return bytes.reverse().join(".");
}

/** 32 hex chars (four little-endian 32-bit words) → an address; IPv4-mapped becomes dotted IPv4. */
function ipv6(hex: string): string {
  const words = (hex.match(/.{8}/g) ?? []).map((w) => (w.match(/../g) ?? []).reverse().join(""));
  const all = words.join("");
  if (all.startsWith("00000000000000000000ffff")) return ipv4((all.slice(24).match(/../g) ?? []).reverse().join(""));
  return (all.match(/.{4}/g) ?? []).join(":");
}

/** Every listening TCP socket of this network namespace. */
export function listeningSockets(): ListeningSocket[] {
  const out: ListeningSocket[] = [];
  for (const family of ["tcp", "tcp6"] as const) {
    const lines = readFileSync(`/proc/net/${family}`, "utf8").trim().split("\n").slice(1);
    for (const line of lines) {
      const f = line.trim().split(/\s+/);
      if (f[3] !== LISTEN) continue;
      const [addr = "", port = "0"] = (f[1] ?? "").split(":");
      out.push({
        address: family === "tcp" ? ipv4(addr) : ipv6(addr),
        port: Number.parseInt(port, 16),
        inode: f[9] ?? "",
        family,
      });
    }
  }
  return out;
}

/** Socket inodes held open by process `pid`. */
export function socketInodes(pid: number): Set<string> {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m?.[1]) inodes.add(m[1]);
    } catch {
      // Closed meanwhile.
    }
  }
  return inodes;
}

/** Pids of the live child processes of `pid`, with their command lines. */
export function childProcesses(pid: number): { pid: number; cmdline: string }[] {
  const out: { pid: number; cmdline: string }[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      // pid (comm) state ppid …: comm may hold spaces and parentheses, so split after the last ')'.
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (ppid !== pid) continue;
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0").join(" ").trim();
      out.push({ pid: Number(entry), cmdline });
    } catch {
      // Exited meanwhile.
    }
  }
  return out;
}

/** The listening sockets process `pid` holds. */
export function listeningSocketsOf(pid: number): ListeningSocket[] {
  const mine = socketInodes(pid);
  return listeningSockets().filter((s) => mine.has(s.inode));
}
