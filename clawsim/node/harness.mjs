#!/usr/bin/env node
// clawsim's check against the real Node.js event loop.
//
// Runs one resolved clawsim scenario (the JSON of `scenario.model_dump(mode="json")` of one
// run, sweep and variants removed) on Node's real event loop and prints one JSON record per
// sessions.list call on stdout, one per line, with the counters clawsim reports (scans, hits,
// lookups, flips, changes, distinct_workspaces, yields, list_ms, ...). No dependencies.
//
//   node harness.mjs SCENARIO.json [--run N] [--clock cpu|wall] [--eld] [--no-warmup]
//   node harness.mjs - < SCENARIO.json
//   node harness.mjs --steps - < SCENARIOS.json
//
// --steps reads a JSON list of scenarios and runs one list of each (no warm-up, no actors,
// awaited I/O as a timer) and prints, one line per scenario, the steps that list took:
// ["pin"], ["setup", cost], ["hoisted", lookups], ["yield", row], ["rows", start, count,
// lookups, row_cost_ms] (rows built in one callback) and ["io", latency_ms], in the order it
// took them: clawsim.engine.walk.list_steps must give the same (tests/test_node_walk.py).
//
// With a top-level "schedule" ({"gaps": [{"gap": g, "expire": n, "activations": [[actor,
// workspace], ...]}]}, a `clawsim explore` schedule) no actor is armed: in gap g of the list
// (0: before it starts and pins; then one per yield and/or awaited read, as
// clawsim/explore/model.py numbers them) the n oldest-stored TTL entries expire and the
// activations run in order, queued with setImmediate ahead of the list's own continuation.
//
// How each scenario field becomes Node code is described in validation/README.md; in short:
//   * rows are built synchronously; costs are busy-waits (row_cost_ms per row, the scan cost
//     on a memo miss, hit_ms on a hit);
//   * the row loop yields with `await new Promise(r => setImmediate(r))` before row i when
//     i > 0 and i % yield_every == 0, exactly like listSessionsFromStoreAsync;
//   * registry.fix "pin" wraps the list in withPinnedActivePluginRegistryWorkspaceDir, an
//     AsyncLocalStorage pin written like openclaw's (runtime-workspace-state.ts);
//   * everything clawsim treats as the world outside the thread is a "device": a worker
//     thread that sleeps until the due time. An awaited I/O of latency_ms is an fs.read of
//     one byte from a FIFO, which the device writes at the due time: the read completes
//     on libuv's thread pool and resumes the row in the loop's poll phase, as the steps of
//     a real fs.readFile do (clawsim's IO(latency_ms)). A list arriving at start_ms > 0 and
//     a Poisson agent turn are messages the device posts at their time, which the loop
//     receives in its poll phase (clawsim's loop.deliver());
//   * busy-waits count CPU time (--clock cpu, the default), so that other processes on the
//     machine stretch the wall time but not the work; run node with --single-threaded (as
//     clawsim.nodecheck does) so that V8's compiler and GC count on the loop's own thread;
//   * before t = 0 a warm-up runs the same code on the same world at 1% of the costs, so
//     that the measured lists do not pay V8's compilation.
//
// Exit codes: 0 records printed, 2 bad input, 3 a runtime failure.

import { AsyncLocalStorage } from "node:async_hooks";
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { monitorEventLoopDelay, performance } from "node:perf_hooks";
import {
  MessageChannel,
  Worker,
  isMainThread,
  parentPort,
  receiveMessageOnPort,
  workerData,
} from "node:worker_threads";

const Z95 = 1.6448536269514722; // standard normal quantile at 0.95, as in clawsim/memo.py
const MIN_TIMER_MS = 1; // Node clamps shorter timer delays to 1 ms

// ------------------------------------------------------------------ random numbers
// clawsim draws with numpy; these streams cannot match numpy's bit for bit, so scenarios
// with random draws are compared with stated bounds. Same seed and run: same Node draws.

function splitmix32(a) {
  return () => {
    a = (a + 0x9e3779b9) | 0;
    let z = a;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
}

// The streams of list.setup_ms, memo.miss_overhead_ms and memo.pre_miss_ms (clawsim/engine/run.py).
const SETUP_STREAM = 2 ** 31 - 1, MISS_OVERHEAD_STREAM = 2 ** 31 - 2, PRE_MISS_STREAM = 2 ** 31 - 3;

/** xoshiro128** seeded from (seed, run, stream): uniform doubles in [0, 1). */
function makeRng(seed, run, stream) {
  let a, b, c, d;
  let spare = null;
  const reseed = (seed_, run_, stream_) => {
    const mix = splitmix32(Math.imul(seed_, 0x2545f491) ^ Math.imul(run_ + 1, 0x9e3779b1) ^ Math.imul(stream_ + 7, 0x85ebca77));
    a = mix(); b = mix(); c = mix(); d = mix();
    spare = null;
    for (let i = 0; i < 16; i++) next();
  };
  const next = () => {
    const r = Math.imul(rotl(Math.imul(b, 5), 7), 9);
    const t = b << 9;
    c ^= a; d ^= b; b ^= c; a ^= d; c ^= t; d = rotl(d, 11);
    return (r >>> 0) / 4294967296;
  };
  reseed(seed, run, stream);
  return {
    reseed,
    random: next,
    normal() { // Box-Muller
      if (spare !== null) { const s = spare; spare = null; return s; }
      let u = 0;
      while (u === 0) u = next();
      const v = next();
      const r = Math.sqrt(-2 * Math.log(u));
      spare = r * Math.sin(2 * Math.PI * v);
      return r * Math.cos(2 * Math.PI * v);
    },
    exponential(mean) { return -mean * Math.log(1 - next()); },
    integer(k) { return Math.floor(next() * k); },
  };
}

function rotl(x, k) { return (x << k) | (x >>> (32 - k)); }

/** A function drawing one cost in ms (clawsim/memo.py cost_sampler). */
function costSampler(cost, rng) {
  if (typeof cost === "number") return () => cost;
  if (cost.dist === "lognormal") {
    const mu = Math.log(cost.p50), sigma = (Math.log(cost.p95) - Math.log(cost.p50)) / Z95;
    return () => Math.exp(mu + sigma * rng.normal());
  }
  if (cost.dist === "uniform") return () => cost.low + (cost.high - cost.low) * rng.random();
  if (cost.dist === "empirical") return () => cost.values[rng.integer(cost.values.length)];
  throw new InputError(`memo.scan_ms: unknown distribution ${JSON.stringify(cost)}`);
}

// ------------------------------------------------------------------ the scenario

class InputError extends Error {}

const DEFAULTS = {
  seed: 0,
  loop: { iteration_ms: 0.005, max_sim_ms: 3600000 },
  list: {
    rows: 100, yield_every: 10, lookups_per_row: 2, row_cost_ms: 0.28, setup_ms: 0, lookup_mode: "per_row",
    per_row_io: null, count: 1, gap_ms: null, poll_every_ms: null, duration_ms: null, start_ms: 0,
  },
  registry: { initial_workspace: "/gateway", fix: "none" },
  memo: {
    policy: "lru", key: "workspace", current_snapshot: false, capacity: null, ttl_ms: null,
    scan_ms: 100, hit_ms: 0, miss_overhead_ms: 0, pre_miss_ms: 0,
  },
  actor: {
    period_ms: null, rate_per_s: null, size: null, count: 1, work_ms: 0, workspaces: "unique", lookups: 0, start_ms: 0,
  },
};
const IGNORED = new Set(["name", "description", "replications", "sweep", "variants"]);

/** Fill clawsim's defaults into a (possibly partial) scenario and check what the harness models. */
function resolveScenario(raw) {
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) throw new InputError("a scenario must be a JSON object");
  for (const k of ["sweep", "variants"]) {
    if (raw[k] && Object.keys(raw[k]).length) {
      throw new InputError(`${k} is not empty: pass one resolved run (clawsim.nodecheck resolves the run plan)`);
    }
  }
  const known = new Set([...Object.keys(DEFAULTS), "actors", ...IGNORED]);
  for (const k of Object.keys(raw)) if (!known.has(k)) warn(`ignoring unknown field ${k}`);
  const s = {
    seed: raw.seed ?? DEFAULTS.seed,
    loop: section(raw.loop, DEFAULTS.loop, "loop"),
    list: section(raw.list, DEFAULTS.list, "list"),
    registry: section(raw.registry, DEFAULTS.registry, "registry"),
    memo: section(raw.memo, DEFAULTS.memo, "memo"),
    actors: (raw.actors ?? []).map((a, i) => actorSpec(a, `actors.${i}`)),
  };
  const { memo, list } = s;
  if (!["none", "single", "lru", "fifo", "ttl"].includes(memo.policy)) throw new InputError(`memo.policy: ${memo.policy}`);
  if (memo.policy === "ttl" && !(memo.ttl_ms > 0)) throw new InputError("memo.policy ttl needs ttl_ms");
  if (!["workspace", "global"].includes(memo.key)) throw new InputError(`memo.key: ${memo.key}`);
  if (!["per_row", "hoisted", "prepared"].includes(list.lookup_mode)) throw new InputError(`list.lookup_mode: ${list.lookup_mode}`);
  if (!["none", "pin"].includes(s.registry.fix)) throw new InputError(`registry.fix: ${s.registry.fix}`);
  if ((list.poll_every_ms === null) !== (list.duration_ms === null)) throw new InputError("poll_every_ms and duration_ms go together");
  for (const [i, a] of s.actors.entries()) {
    if (!["immediate", "interval", "poisson", "burst"].includes(a.kind)) throw new InputError(`actors.${i}.kind: ${a.kind}`);
    if ((a.kind === "interval" || a.kind === "burst") && !(a.period_ms >= 1)) throw new InputError(`actors.${i}: kind ${a.kind} needs period_ms >= 1`);
    if (a.kind === "burst" && !(a.size >= 1)) throw new InputError(`actors.${i}: kind burst needs size >= 1`);
    if (a.kind === "poisson" && !(a.rate_per_s > 0)) throw new InputError(`actors.${i}: kind poisson needs rate_per_s > 0`);
    parseWorkspaces(a.workspaces, `actors.${i}.workspaces`);
  }
  return s;
}

/** An actor with every field, in one key order (one hidden class for V8, warm-up included). */
function actorSpec(value, where) {
  return section(value, { name: where, kind: "immediate", ...DEFAULTS.actor }, where);
}

function section(value, defaults, where) {
  if (value === undefined || value === null) return { ...defaults };
  if (typeof value !== "object" || Array.isArray(value)) throw new InputError(`${where} must be an object`);
  for (const k of Object.keys(value)) if (!(k in defaults)) warn(`ignoring unknown field ${where}.${k}`);
  return { ...defaults, ...value };
}

function parseWorkspaces(text, where) {
  const at = text.indexOf(":");
  const form = at < 0 ? text : text.slice(0, at), arg = at < 0 ? "" : text.slice(at + 1);
  if (form === "unique" && !arg) return ["unique", null];
  if ((form === "cycle" || form === "random") && /^\d+$/.test(arg) && Number(arg) >= 1) return [form, Number(arg)];
  if (form === "fixed" && arg) return ["fixed", arg];
  throw new InputError(`${where}: must be unique | cycle:K | random:K | fixed:NAME, got ${JSON.stringify(text)}`);
}

/** Memo slots: lru, fifo -> capacity or 8; none -> 0; single -> 1; ttl -> capacity (null = unbounded). */
function memoSlots(memo) {
  if (memo.policy === "lru" || memo.policy === "fifo") return memo.capacity || 8;
  if (memo.policy === "none") return 0;
  if (memo.policy === "single") return 1;
  return memo.capacity ?? null;
}

function warn(message) { process.stderr.write(`harness: ${message}\n`); }

// ------------------------------------------------------------------ busy work and the clock

// t0: performance.now() at the scenario's t = 0. scale: costs are multiplied by it (the
// warm-up runs the real code at 1% of the costs). Object fields, written more than once
// before anything is optimized, so that setting them for the real run deoptimizes nothing.
const CLOCK = { t0: 0, scale: 1 };

/** ms since the scenario's t = 0 (clawsim's env.now). */
function clock() { return performance.now() - CLOCK.t0; }

/** CPU time of the process in ms (user + system, all threads; the device thread sleeps). */
function cpuClock() {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

// The clock the busy-waits run on. "cpu" (the default): a cost of 2.5 ms is 2.5 ms of CPU,
// as real work is, so a process preempted by other tenants of the machine takes longer in
// wall time but does the same work; "wall": performance.now().
let workClock = cpuClock;

/**
 * How long the watched threads have waited, runnable, for a CPU (ms): the time other
 * processes took from them (Linux schedstat, field 2). null where unavailable. The main
 * thread is watched; watchAllThreads() adds the device and libuv's pool (I/O scenarios).
 */
const SCHEDSTAT = { fds: [], buf: Buffer.alloc(128) };
try { SCHEDSTAT.fds.push(fs.openSync("/proc/thread-self/schedstat", "r")); } catch { /* not Linux */ }

function waitedMs() {
  if (!SCHEDSTAT.fds.length) return null;
  let total = 0;
  for (const fd of SCHEDSTAT.fds) {
    try {
      const n = fs.readSync(fd, SCHEDSTAT.buf, 0, SCHEDSTAT.buf.length, 0);
      total += Number(SCHEDSTAT.buf.toString("latin1", 0, n).split(" ")[1]) / 1e6;
    } catch { /* a thread that ended */ }
  }
  return total;
}

function watchAllThreads() {
  if (!SCHEDSTAT.fds.length) return;
  try {
    const main = fs.readFileSync("/proc/thread-self/stat", "latin1").split(" ")[0];
    for (const tid of fs.readdirSync("/proc/self/task")) {
      if (tid !== main) SCHEDSTAT.fds.push(fs.openSync(`/proc/self/task/${tid}/schedstat`, "r"));
    }
  } catch { /* keep the main thread only */ }
}

/** Hold the thread for `ms` of synchronous work, like a scan or a row does. */
function spin(ms) {
  if (!(ms > 0)) return;
  const end = workClock() + ms * CLOCK.scale;
  while (workClock() < end);
}

// ------------------------------------------------------------------ the registry and its pin
// openclaw's src/plugins/runtime-workspace-state.ts (PR #90819, contributor version).

const REGISTRY_STATE = Symbol.for("openclaw.pluginRegistryState");
const pinnedWorkspaceDirStorage = new AsyncLocalStorage();

globalThis[REGISTRY_STATE] = { workspaceDir: "", flips: 0, changes: 0, changedAt: -Infinity };

function registryState() { return globalThis[REGISTRY_STATE]; }

/** setActivePluginRegistry: writes the process-global; never blocked, pinned or not. */
function setActivePluginRegistry(workspaceDir) {
  const state = registryState();
  state.flips += 1;
  if (workspaceDir !== state.workspaceDir) {
    state.changes += 1;
    state.changedAt = clock();
    state.workspaceDir = workspaceDir;
  }
}

function getActivePluginRegistryWorkspaceDirFromState() {
  const pinned = pinnedWorkspaceDirStorage.getStore();
  if (pinned) return pinned.workspaceDir; // pinned value wins
  return registryState().workspaceDir;
}

function withPinnedActivePluginRegistryWorkspaceDir(fn) {
  if (pinnedWorkspaceDirStorage.getStore()) return fn(); // nested: reuse the outer snapshot
  const workspaceDir = registryState().workspaceDir; // snapshot once at entry
  return pinnedWorkspaceDirStorage.run({ workspaceDir }, fn);
}

// ------------------------------------------------------------------ the memo (clawsim/memo.py)

class Memo {
  constructor(spec) {
    this.slots = memoSlots(spec);
    this.ttl = spec.policy === "ttl" ? spec.ttl_ms : null;
    this.refresh = spec.policy !== "fifo"; // a hit makes its entry the most recent (fifo: store order stays)
    this.entries = new Map(); // key -> [stored at ms, workspace]; Map order = eviction order
  }

  lookup(key, now) {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    if (this.ttl !== null && now - entry[0] >= this.ttl) { this.entries.delete(key); return undefined; }
    if (this.refresh) { this.entries.delete(key); this.entries.set(key, entry); } // most recent
    return entry;
  }

  store(key, now, workspace) {
    if (this.slots === 0) return;
    this.entries.delete(key);
    this.entries.set(key, [now, workspace]);
    if (this.slots !== null && this.entries.size > this.slots) this.entries.delete(this.entries.keys().next().value);
  }
}

// ------------------------------------------------------------------ the world

class World {
  constructor(s, run) {
    this.s = s;
    this.run = run;
    this.memo = new Memo(s.memo);
    this.rng = makeRng(s.seed, run, 0);
    this.scanCost = costSampler(s.memo.scan_ms, this.rng);
    // list.setup_ms, memo.miss_overhead_ms and memo.pre_miss_ms draw from their own streams
    this.setupRng = makeRng(s.seed, run, SETUP_STREAM);
    this.overheadRng = makeRng(s.seed, run, MISS_OVERHEAD_STREAM);
    this.preRng = makeRng(s.seed, run, PRE_MISS_STREAM);
    this.setupCost = costSampler(s.list.setup_ms, this.setupRng);
    this.missOverhead = costSampler(s.memo.miss_overhead_ms, this.overheadRng);
    this.preMiss = costSampler(s.memo.pre_miss_ms, this.preRng);
    this.hitMs = s.memo.hit_ms;
    this.keyed = s.memo.key === "workspace";
    this.fingerprinted = this.keyed && s.memo.policy !== "ttl";
    this.currentSnapshot = s.memo.current_snapshot ? s.registry.initial_workspace : null;
    this.lists = [];
    this.open = new Map(); // stats of a running list -> its finish(completed)
    this.timers = [];
    this.onStop = () => {};
    this.device = null;
    this.schedule = null; // a schedule's gaps by number (readSchedule), or null: the actors arm themselves
    this.actorsByName = new Map();
    this.stepLog = null; // --steps: the steps of the list, as sessionList takes them (logRow)
    this.reset(); // the counters and the state at t = 0
  }

  /** Back to the state at t = 0, in place (the warm-up runs on this very world). */
  reset() {
    const state = registryState();
    state.workspaceDir = this.s.registry.initial_workspace;
    state.flips = 0;
    state.changes = 0;
    state.changedAt = -Infinity;
    this.memo.entries.clear();
    this.rng.reseed(this.s.seed, this.run, 0);
    this.setupRng.reseed(this.s.seed, this.run, SETUP_STREAM);
    this.overheadRng.reseed(this.s.seed, this.run, MISS_OVERHEAD_STREAM);
    this.preRng.reseed(this.s.seed, this.run, PRE_MISS_STREAM);
    this.lists.length = 0;
    this.open.clear();
    this.timers.length = 0;
    this.openLists = 0;
    this.moreLists = true;
    this.stopped = false;
    this.actorActivations = 0;
    this.actorScans = 0;
    this.simMs = 0;
  }

  key(workspace, j) { return this.keyed ? `${workspace}\u0000${j}` : `\u0000${j}`; }

  /** One plugin-metadata lookup: [hit, stale]; a miss holds the thread for a full scan, after
   * memo.pre_miss_ms of work if it is the first scan of its batch (``batch.scanned`` false). */
  lookup(workspace, j, stats, batch) {
    if (this.currentSnapshot === workspace) return [true, false]; // gateway-published snapshot, free
    const key = this.key(workspace, j);
    const entry = this.memo.lookup(key, clock());
    if (entry !== undefined) {
      spin(this.hitMs);
      const stale = !this.fingerprinted && (entry[1] !== workspace || entry[0] < registryState().changedAt);
      return [true, stale];
    }
    if (batch && !batch.scanned) {
      batch.scanned = true;
      if (this.s.memo.pre_miss_ms !== 0) spin(this.preMiss()); // memo.pre_miss_ms: before the scan, outside it
    }
    const cost = this.scanCost();
    spin(cost);
    if (stats) stats.scan_ms_total += cost;
    this.memo.store(key, clock(), workspace);
    spin(this.missOverhead()); // memo.miss_overhead_ms: after the scan, outside it
    return [false, false];
  }

  stop() {
    if (this.stopped) return;
    this.stopped = true;
    this.simMs = clock();
    this.onStop();
  }
}

// ------------------------------------------------------------------ the device (a worker thread)
// Everything clawsim puts outside the thread: I/O completions and external arrivals, each
// delivered to the main thread as a message, i.e. in its poll phase, at the due time.

class Device {
  constructor(fifos) {
    this.fifos = fifos; // free FIFO descriptors for awaited I/O
    this.warned = false;
    this.byte = Buffer.alloc(1);
    this.ctl = new Int32Array(new SharedArrayBuffer(4));
    this.late = new Float64Array(new SharedArrayBuffer(16)); // [ms the device wrote late, writes]
    const { port1, port2 } = new MessageChannel();
    this.requests = port1;
    this.pending = new Map();
    this.nextId = 1;
    this.onArrival = () => {};
    this.worker = new Worker(new URL(import.meta.url), {
      workerData: { device: true, ctl: this.ctl.buffer, late: this.late.buffer, port: port2 },
      transferList: [port2],
    });
    this.worker.on("error", (e) => fatal(`device worker failed: ${e.stack || e}`));
    this.worker.on("message", (m) => this.receive(m));
    this.ready = new Promise((resolve) => { this.resolveReady = resolve; });
  }

  receive(m) {
    if (m.type === "ready") this.resolveReady();
    else if (m.type === "io") {
      const resolve = this.pending.get(m.id);
      this.pending.delete(m.id);
      resolve();
    } else if (m.type === "arrive") this.onArrival(m);
  }

  send(message) {
    this.requests.postMessage(message);
    Atomics.add(this.ctl, 0, 1);
    Atomics.notify(this.ctl, 0);
  }

  /** Start the device's schedule (list arrivals, Poisson turns) at absolute time t0abs. */
  start(t0abs, arrivals, poisson) { this.send({ type: "start", t0abs, arrivals, poisson }); }

  /**
   * An awaited I/O that completes latencyMs from now and resumes in a poll phase: a
   * thread-pool fs.read of a FIFO that the device writes to at the due time. Like libuv's
   * own completions (and unlike messages, which a port drains as they come), one that
   * completes while the loop is already in its poll phase waits for the next iteration.
   */
  io(latencyMs) {
    const due = performance.timeOrigin + performance.now() + latencyMs;
    const fd = this.fifos.pop();
    if (fd === undefined) { // more I/O in flight than FIFOs (or no mkfifo): a message
      if (!this.warned) warn("awaited I/O beyond the FIFO pool completes by message (drained, not libuv's order)");
      this.warned = true;
      return new Promise((resolve) => {
        const id = this.nextId++;
        this.pending.set(id, resolve);
        this.send({ type: "io", id, due });
      });
    }
    return new Promise((resolve, reject) => {
      fs.read(fd, this.byte, 0, 1, null, (err) => {
        this.fifos.push(fd);
        if (err) reject(err); else resolve();
      });
      this.send({ type: "io", fd, due });
    });
  }

  stop() {
    this.send({ type: "stop" });
    this.worker.unref();
  }
}

const ONE_BYTE = new Uint8Array([1]);

/**
 * FIFOs for awaited I/O, opened read-write (so opening does not block) and unlinked at
 * once. At most as many as libuv has pool threads, so that no read queues for a thread.
 * Empty if mkfifo is missing: I/O then completes by message.
 */
function makeFifos(count) {
  if (count <= 0) return [];
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "clawsim-io-"));
  try {
    const paths = Array.from({ length: count }, (_, i) => path.join(dir, `io${i}`));
    execFileSync("mkfifo", paths, { stdio: "ignore" });
    const fds = paths.map((p) => fs.openSync(p, fs.constants.O_RDWR));
    for (const p of paths) fs.unlinkSync(p);
    return fds;
  } catch (e) {
    warn(`no FIFOs (${e.message}): awaited I/O completes by message`);
    return [];
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function runDevice({ ctl: buffer, late: lateBuffer, port }) {
  const ctl = new Int32Array(buffer);
  const late = new Float64Array(lateBuffer);
  const nowAbs = () => performance.timeOrigin + performance.now();
  const heap = new MinHeap();
  let seq = 0;
  let stopped = false;
  const handle = (m) => {
    if (m.type === "io") heap.push(m.due, seq++, m.fd === undefined ? { type: "io", id: m.id } : { fd: m.fd });
    else if (m.type === "stop") stopped = true;
    else if (m.type === "start") {
      for (const a of m.arrivals) heap.push(m.t0abs + a.at, seq++, { type: "arrive", what: a.what });
      for (const p of m.poisson) {
        const rng = makeRng(p.seed, p.run, p.stream);
        const mean = 1000 / p.rate_per_s;
        const next = (due) => { const at = due + rng.exponential(mean); heap.push(at, seq++, { type: "arrive", what: p.what, next }); };
        next(m.t0abs + p.start_ms);
      }
    }
  };
  const fire = ({ due, item }) => {
    const { next, fd, ...message } = item;
    if (fd !== undefined) {
      fs.writeSync(fd, ONE_BYTE);
      late[0] += nowAbs() - due; // the device's own lateness: the read's latency, not the loop's
      late[1] += 1;
    } else parentPort.postMessage(message);
    if (next) next(due);
  };
  // One turn: take the requests, do what is due, sleep (no CPU: the main thread's CPU clock
  // stays its own) until the next due time or a new request; Linux wakes a futex wait some
  // 50-100 us late. A function of its own, so that V8 optimizes it as a whole rather than
  // replacing a running loop (on-stack replacement took ~10 ms on this thread).
  const turn = () => {
    const generation = Atomics.load(ctl, 0);
    let m;
    while ((m = receiveMessageOnPort(port)) !== undefined) handle(m.message);
    if (stopped) return false;
    while (heap.size && heap.peekDue() <= nowAbs()) fire(heap.pop());
    if (!heap.size) Atomics.wait(ctl, 0, generation);
    else Atomics.wait(ctl, 0, generation, Math.max(0, heap.peekDue() - nowAbs()));
    return true;
  };
  parentPort.postMessage({ type: "ready" });
  while (turn());
  port.close();
}

class MinHeap {
  constructor() { this.a = []; }
  get size() { return this.a.length; }
  peekDue() { return this.a[0].due; }
  less(i, j) { const x = this.a[i], y = this.a[j]; return x.due < y.due || (x.due === y.due && x.seq < y.seq); }
  swap(i, j) { const t = this.a[i]; this.a[i] = this.a[j]; this.a[j] = t; }
  push(due, seq, item) {
    this.a.push({ due, seq, item });
    for (let i = this.a.length - 1; i > 0;) {
      const p = (i - 1) >> 1;
      if (!this.less(i, p)) break;
      this.swap(i, p); i = p;
    }
  }
  pop() {
    const top = this.a[0], last = this.a.pop();
    if (this.a.length) {
      this.a[0] = last;
      for (let i = 0; ;) {
        const l = 2 * i + 1, r = l + 1;
        let m = i;
        if (l < this.a.length && this.less(l, m)) m = l;
        if (r < this.a.length && this.less(r, m)) m = r;
        if (m === i) break;
        this.swap(i, m); i = m;
      }
    }
    return top;
  }
}

/** A same-thread MessageChannel: post(fn) runs fn in the next poll phase (clawsim's deliver()). */
class LocalPort {
  constructor() {
    this.channel = new MessageChannel();
    this.fns = new Map();
    this.next = 0;
    this.channel.port2.on("message", (i) => { const fn = this.fns.get(i); this.fns.delete(i); fn(); });
  }

  post(fn) { const i = this.next++; this.fns.set(i, fn); this.channel.port1.postMessage(i); }
  close() { this.channel.port1.close(); }
}

const LOCAL = new LocalPort();

// ------------------------------------------------------------------ sessions.list

const setImmediateP = () => new Promise((resolve) => setImmediate(resolve));
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, Math.max(ms, MIN_TIMER_MS)));

/** The lookups of one row (or of a hoisted preparation): each reads the getter, like openclaw.
 * ``batch``: the batch the row belongs to ({scanned}: whether it has scanned yet). */
function lookUp(world, stats, n, batch) {
  for (let j = 0; j < n; j++) {
    const workspace = getActivePluginRegistryWorkspaceDirFromState();
    const [hit, stale] = world.lookup(workspace, j, stats, batch);
    if (hit) { stats.hits += 1; if (stale) stats.stale_hits += 1; } else stats.scans += 1;
    stats.lookups += 1;
  }
}

/** --steps: row i joins the batch logged just before it, or starts a new one. */
function logRow(log, i, lookups, costMs) {
  const last = log[log.length - 1];
  if (last !== undefined && last[0] === "rows" && last[1] + last[2] === i) last[2] += 1;
  else log.push(["rows", i, 1, lookups, costMs]);
}

/** listSessionsFromStoreAsync's row loop: build rows, await transcript reads, yield every B rows. */
async function sessionList(world, spec, index, io) {
  const state = registryState();
  const waited0 = waitedMs();
  const stats = {
    list_index: index, rows: spec.rows, scans: 0, hits: 0, stale_hits: 0, lookups: 0, flips: 0, changes: 0,
    distinct_workspaces: 0, yields: 0, list_ms: 0, list_cpu_ms: 0, scan_ms_total: 0, start_ms: clock(),
    pinned: pinnedWorkspaceDirStorage.getStore() !== undefined, completed: false, io_ms_total: 0, io_no_turn: 0,
    io_late_ms: 0, io_writes: 0, waited_ms: null,
  };
  world.lists.push(stats);
  const flips0 = state.flips, changes0 = state.changes, cpu0 = cpuClock();
  const late = world.device ? world.device.late : null;
  const late0 = late ? late[0] : 0, writes0 = late ? late[1] : 0;
  const workspaces = new Set();
  world.open.set(stats, (completed) => { // the list's end, or the run's cut-off (loop.max_sim_ms)
    stats.list_ms = clock() - stats.start_ms;
    stats.list_cpu_ms = cpuClock() - cpu0;
    const waited = waitedMs();
    stats.waited_ms = waited === null ? null : waited - waited0;
    stats.flips = state.flips - flips0;
    stats.changes = state.changes - changes0;
    stats.distinct_workspaces = workspaces.size;
    stats.completed = completed;
    if (late) { stats.io_late_ms = late[0] - late0; stats.io_writes = late[1] - writes0; }
  });
  const ioRows = spec.per_row_io ? spec.per_row_io.rows : 0;
  const every = spec.yield_every;
  const perRow = spec.lookup_mode === "per_row" ? spec.lookups_per_row : 0;
  // A schedule's gaps: one per yield and/or awaited read, opened by the first of them. The
  // gap's activations are queued ahead of the list's continuation; after a read the list also
  // awaits them, since on a busy machine the read can complete within the same poll phase.
  let gap = 0;
  const openGap = () => {
    gap += 1;
    const scheduled = world.schedule ? world.schedule.get(gap) : undefined;
    if (scheduled === undefined) return null;
    return new Promise((resolve) => setImmediate(() => { runGap(world, scheduled); resolve(); }));
  };
  const log = world.stepLog; // null but with --steps
  if (log && stats.pinned) log.push(["pin"]);
  if (spec.setup_ms !== 0) { // list.setup_ms: the list's fixed work before its rows
    if (log) log.push(["setup", spec.setup_ms]);
    spin(world.setupCost());
  }
  if (spec.lookup_mode === "hoisted") { // resolved once before the row loop, reused by every row
    const hoisted = spec.lookups_per_row;
    if (log) log.push(["hoisted", hoisted]);
    workspaces.add(getActivePluginRegistryWorkspaceDirFromState());
    lookUp(world, stats, hoisted, { scanned: false });
  }
  let batch = { scanned: false }; // a batch ends at a yield or an awaited read
  for (let i = 0; i < spec.rows; i++) {
    if (i > 0 && every > 0 && i % every === 0) {
      batch = { scanned: false };
      if (i - 1 >= ioRows) openGap(); // else the previous row's read opened this gap (FIFO: it runs first)
      stats.yields += 1;
      if (log) log.push(["yield", i]);
      await setImmediateP();
    }
    if (perRow) workspaces.add(getActivePluginRegistryWorkspaceDirFromState());
    lookUp(world, stats, perRow, batch);
    spin(spec.row_cost_ms);
    if (log) logRow(log, i, perRow, spec.row_cost_ms);
    if (i < ioRows) { // the transcript read
      const asked = clock(), flipsAsked = state.flips;
      const ran = openGap();
      if (log) log.push(["io", spec.per_row_io.latency_ms]);
      await io(spec.per_row_io.latency_ms);
      batch = { scanned: false };
      if (ran !== null) await ran;
      stats.io_ms_total += clock() - asked;
      // No setter ran while this row waited, and the next row reads at once (no yield):
      // the thread was held (descheduled) at least as long as the I/O took.
      if (state.flips === flipsAsked && i + 1 < spec.rows && !(every > 0 && (i + 1) % every === 0)) stats.io_no_turn += 1;
    }
  }
  world.open.get(stats)(true);
  world.open.delete(stats);
  world.openLists -= 1;
  if (world.openLists === 0 && !world.moreLists) world.stop();
}

function oneList(world, spec, counter, io) {
  world.openLists += 1;
  const index = counter.next++;
  if (world.schedule) runGap(world, world.schedule.get(0)); // gap 0: before the list reads or pins
  const body = () => sessionList(world, spec, index, io);
  return world.s.registry.fix === "pin" ? withPinnedActivePluginRegistryWorkspaceDir(body) : body();
}

// ------------------------------------------------------------------ actors

function* workspaceNames(actor, copy, rng) {
  const [form, arg] = parseWorkspaces(actor.workspaces, "workspaces");
  for (let n = 0; ; n++) {
    if (form === "unique") yield `${actor.name}#${copy}/${n}`;
    else if (form === "cycle") yield `${actor.name}/${n % arg}`;
    else if (form === "random") yield `${actor.name}/${rng.integer(arg)}`;
    else yield arg;
  }
}

/**
 * The PR's flipper: an actor that re-arms itself with setImmediate. (One factory for the
 * warm-up's flipper and the scenario's, so that the warm-up compiles the code that runs.)
 */
function immediateActor(world, actor, names) {
  const tick = () => {
    if (world.stopped) return;
    activation(world, actor, names);
    setImmediate(tick);
  };
  return tick;
}

/** The awaited I/O of a row: the device's, one function for the warm-up and the run. */
function ioOf(device) {
  if (!device) return () => { throw new Error("awaited I/O without a device"); };
  device.ioFn ??= (ms) => device.io(ms);
  return device.ioFn;
}

/** One agent turn or cron run: set the global, look its workspace up, do its work. */
function activation(world, actor, names) {
  if (world.stopped) return;
  activateAs(world, actor, names.next().value);
}

/** The synchronous part of one activation that sets ``workspace``. */
function activateAs(world, actor, workspace) {
  setActivePluginRegistry(workspace);
  world.actorActivations += 1;
  for (let j = 0; j < actor.lookups; j++) {
    const [hit] = world.lookup(workspace, j, null);
    if (!hit) world.actorScans += 1;
  }
  spin(actor.work_ms);
}

/** One gap of a schedule: the oldest-stored TTL entries expire, then the activations run. */
function runGap(world, gap) {
  if (world.stopped || gap === undefined) return;
  if (gap.expire) {
    const oldest = [...world.memo.entries.entries()].sort((a, b) => a[1][0] - b[1][0]).slice(0, gap.expire);
    for (const [key] of oldest) world.memo.entries.delete(key);
  }
  for (const [name, workspace] of gap.activations) activateAs(world, world.actorsByName.get(name), workspace);
}

/** The gaps of a schedule by number; InputError for a malformed one or an unknown actor. */
function readSchedule(raw, s) {
  if (raw === undefined || raw === null) return null;
  const names = new Set(s.actors.map((a) => a.name));
  const gaps = new Map();
  if (!Array.isArray(raw.gaps)) throw new InputError("schedule.gaps must be a list");
  for (const [i, g] of raw.gaps.entries()) {
    if (!Number.isInteger(g.gap) || g.gap < 0) throw new InputError(`schedule.gaps[${i}].gap must be a whole number >= 0`);
    for (const a of g.activations ?? []) {
      if (!Array.isArray(a) || a.length !== 2 || !names.has(a[0])) throw new InputError(`schedule.gaps[${i}]: unknown actor in ${JSON.stringify(a)}`);
    }
    gaps.set(g.gap, { expire: g.expire ?? 0, activations: g.activations ?? [] });
  }
  return gaps;
}

// ------------------------------------------------------------------ the run

function fatal(message) {
  warn(message);
  process.exit(3);
}

async function main(argv) {
  const args = { file: null, run: 0, eld: false, warmup: true, clock: "cpu", steps: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--run") args.run = Number(argv[++i]);
    else if (a === "--eld") args.eld = true;
    else if (a === "--no-warmup") args.warmup = false;
    else if (a === "--steps") args.steps = true;
    else if (a === "--clock") args.clock = argv[++i];
    else if (a === "-h" || a === "--help") {
      process.stdout.write("usage: node harness.mjs [SCENARIO.json | -] [--run N] [--clock cpu|wall] [--eld] [--no-warmup] [--steps]\n");
      return;
    } else if (args.file === null) args.file = a;
    else throw new InputError(`unexpected argument ${a}`);
  }
  if (!Number.isInteger(args.run) || args.run < 0) throw new InputError("--run needs a whole number >= 0");
  if (!["cpu", "wall"].includes(args.clock)) throw new InputError("--clock is cpu or wall");
  workClock = args.clock === "cpu" ? cpuClock : () => performance.now();
  const text = fs.readFileSync(args.file === null || args.file === "-" ? 0 : args.file, "utf8");
  let raw;
  try { raw = JSON.parse(text); } catch (e) { throw new InputError(`not JSON: ${e.message}`); }
  if (args.steps) return listSteps(raw, args.run);
  const scheduleRaw = raw && typeof raw === "object" ? raw.schedule : undefined;
  if (scheduleRaw !== undefined) delete raw.schedule;
  const s = resolveScenario(raw);
  const world = new World(s, args.run);
  world.actorsByName = new Map(s.actors.map((a) => [a.name, a]));
  const needsDevice = Boolean(s.list.per_row_io && s.list.per_row_io.rows > 0) || s.list.start_ms > 0
    || s.actors.some((a) => a.kind === "poisson" && a.count > 0);
  // Awaited I/O needs one FIFO per read in flight: one per open list. libuv's pool has
  // UV_THREADPOOL_SIZE threads (4 unless the caller sets it; clawsim.nodecheck sets 8).
  const ioRows = s.list.per_row_io ? s.list.per_row_io.rows : 0;
  const pool = Number(process.env.UV_THREADPOOL_SIZE) || 4;
  const device = needsDevice ? new Device(makeFifos(ioRows > 0 ? pool : 0)) : null;
  if (device) await device.ready;
  world.device = device;
  if (args.warmup) await warmup(world, device);
  world.schedule = readSchedule(scheduleRaw, s); // after the warm-up, which runs its own flipper
  if (device) watchAllThreads(); // the device's and the pool's delays are the I/O's
  // t = 0 is a poll phase, in a message callback: the actors are armed first (an immediate
  // queued now runs in this iteration's check phase), then the lists due at t = 0 start
  // right there, as clawsim's arrivals at t = 0 do in its first poll phase.
  const eld = args.eld ? monitorEventLoopDelay({ resolution: 1 }) : null;
  const records = await new Promise((resolve) => {
    world.onStop = () => resolve(finish(world, eld, device));
    LOCAL.post(() => start(world, s, args.run, device, eld));
  });
  fs.writeSync(1, records.map((r) => JSON.stringify(r)).join("\n") + "\n");
  process.exit(0);
}

/** --steps: one list of each scenario of the list ``raw``, printing the steps it took (one line each). */
async function listSteps(raw, run) {
  if (!Array.isArray(raw)) throw new InputError("--steps reads a list of scenarios");
  const lines = [];
  for (const one of raw) {
    const s = resolveScenario(one);
    const world = new World(s, run);
    world.stepLog = [];
    await oneList(world, s.list, { next: 0 }, sleep); // the awaited I/O: a timer, no device
    lines.push(JSON.stringify(world.stepLog));
  }
  fs.writeSync(1, lines.join("\n") + "\n");
  process.exit(0);
}

function start(world, s, run, device, eld) {
  // loop.max_sim_ms: clawsim's cut-off for runs that never end; here a timer (it fires in
  // a timers phase, not in the middle of a batch as clawsim's does). Armed before t = 0:
  // arming a timer of a new duration costs a few hundred microseconds the first time.
  const cutoff = setTimeout(() => {
    for (const finish of world.open.values()) finish(false);
    world.open.clear();
    world.stop();
  }, s.loop.max_sim_ms);
  cutoff.unref();
  world.timers.push(() => clearTimeout(cutoff));
  CLOCK.t0 = performance.now(); // provisional: reset when the lists start
  eld?.enable();
  const timers = world.timers;
  const spec = s.list;
  const io = ioOf(device);
  const counter = { next: 0 };
  // An arrival at t = 0 starts once the actors are armed, in this poll phase; later ones
  // come from the device, each in the poll phase after its time.
  const now = [];
  const deliver = (at, fn) => { if (at <= 0) now.push(fn); else arrivals.push({ at, what: addArrival(fn) }); };
  const arrivalFns = [];
  const addArrival = (fn) => { arrivalFns.push(fn); return arrivalFns.length - 1; };
  const arrivals = [];
  const poisson = [];
  // clawsim's loop.set_interval(period, f, start_ms): first tick at start_ms + period, then
  // re-armed from each firing. Returns a function that clears it.
  const setIntervalFrom = (startMs, period, fn) => {
    const ms = Math.max(period, MIN_TIMER_MS);
    let handle;
    if (startMs <= 0) handle = setInterval(fn, ms);
    else handle = setTimeout(() => { handle = setInterval(fn, ms); fn(); }, startMs + period);
    const clear = () => { clearTimeout(handle); clearInterval(handle); };
    timers.push(clear);
    return clear;
  };

  // actors, in order; stream k >= 1 is the k-th actor copy, as in clawsim/model.py
  let stream = 1;
  for (const actor of world.schedule ? [] : s.actors) { // a schedule replaces the actors' own arming
    for (let copy = 0; copy < actor.count; copy++) {
      const names = workspaceNames(actor, copy, makeRng(s.seed, run, stream));
      if (actor.kind === "immediate") { // the PR's flipper: re-arms with setImmediate
        const tick = immediateActor(world, actor, names);
        setImmediate(() => { if (actor.start_ms) setTimeout(tick, actor.start_ms); else tick(); });
      } else if (actor.kind === "interval") {
        setIntervalFrom(actor.start_ms, actor.period_ms, () => activation(world, actor, names));
      } else if (actor.kind === "burst") { // each tick: one activation now, then one per check phase
        setIntervalFrom(actor.start_ms, actor.period_ms, () => {
          let left = actor.size;
          const step = () => { activation(world, actor, names); if (--left > 0 && !world.stopped) setImmediate(step); };
          step();
        });
      } else if (actor.kind === "poisson") {
        poisson.push({ seed: s.seed, run, stream: 1000 + stream, rate_per_s: actor.rate_per_s, start_ms: actor.start_ms,
          what: addArrival(() => activation(world, actor, names)) });
      } else {
        throw new InputError(`actors: kind ${actor.kind} is not handled`); // resolveScenario lists the kinds
      }
      stream += 1;
    }
  }

  // lists: count back to back (gap_ms apart), or a polling Control UI
  if (spec.poll_every_ms === null) {
    deliver(spec.start_ms, async () => {
      for (let k = 0; k < spec.count; k++) {
        world.moreLists = k + 1 < spec.count;
        await oneList(world, spec, counter, io);
        if (spec.gap_ms && world.moreLists) await sleep(spec.gap_ms);
      }
    });
  } else {
    const end = spec.start_ms + spec.duration_ms;
    const clearTicker = setIntervalFrom(spec.start_ms, spec.poll_every_ms, () => {
      if (world.stopped) return;
      if (clock() >= end) {
        clearTicker();
        world.moreLists = false;
        if (world.openLists === 0) world.stop();
        return;
      }
      oneList(world, spec, counter, io);
    });
    deliver(spec.start_ms, () => oneList(world, spec, counter, io));
  }
  // t = 0 proper: the actors' timers were armed some 0.1 ms ago (cold code in this one-off
  // function), the lists and the device's schedule start now.
  CLOCK.t0 = performance.now();
  if (device) {
    device.onArrival = (m) => { if (!world.stopped) arrivalFns[m.what](); };
    device.start(performance.timeOrigin + CLOCK.t0, arrivals, poisson);
  }
  for (const fn of now) fn();
}

function finish(world, eld, device) {
  for (const clear of world.timers) clear();
  LOCAL.close();
  device?.stop();
  eld?.disable();
  const run = {
    actor_activations: world.actorActivations,
    actor_scans: world.actorScans,
    sim_ms: world.simMs,
    ...(eld ? { loop_delay_max_ms: eld.max / 1e6 } : {}),
  };
  return world.lists.map((stats) => ({ ...stats, ...run }));
}

/**
 * Compile the hot paths before t = 0: the real world runs twenty 500-row lists, pinned if the
 * scenario pins, against a flipper, with every cost scaled down to a few microseconds; then
 * it is reset in place. (A fresh world object or registry state would deoptimize the code
 * that was just compiled: the first list would pay a few ms of compilation.)
 */
async function warmup(world, device) {
  const s = world.s;
  const typical = (c) => (typeof c === "number" ? c : c.dist === "lognormal" ? c.p50 : c.dist === "uniform" ? c.high : Math.max(...c.values));
  const longest = Math.max(s.list.row_cost_ms, typical(s.memo.scan_ms), s.memo.hit_ms, ...s.actors.map((a) => a.work_ms), 1e-3);
  CLOCK.t0 = 1;
  CLOCK.t0 = performance.now();
  CLOCK.scale = 0.5;
  CLOCK.scale = Math.min(0.01, 0.005 / longest);
  const spec = { ...s.list, rows: 500, yield_every: 10, per_row_io: device ? { rows: 100, latency_ms: 0.01 } : null,
    count: 1, gap_ms: null, poll_every_ms: null,
    duration_ms: null, start_ms: 0 };
  const actor = actorSpec({ name: "warmup", kind: "immediate", lookups: Math.max(0, ...s.actors.map((a) => a.lookups)) }, "warmup");
  // The name generators of the scenario's own actors (their field types differ from the
  // warm-up actor's), before anything is optimized.
  for (const a of s.actors) {
    for (let g = 0; g < 20; g++) {
      const gen = workspaceNames(a, g, makeRng(0, 0, g));
      for (let k = 0; k < 50; k++) gen.next();
    }
  }
  // Two flippers: V8 then compiles the flipper for any closure, not for the first one only.
  setImmediate(immediateActor(world, actor, workspaceNames(actor, 0, null)));
  setImmediate(immediateActor(world, actor, workspaceNames(actor, 1, null)));
  // Lists start from a message (an arrival), a timer (polling) and a promise (back to back):
  // each gives the async context its own resource, which the pin's store lookup must know.
  // Twenty lists, so that V8 also optimizes the list function itself (compiling it takes
  // ~10 ms, which must not land in a measured list).
  const counter = { next: 0 };
  const io = ioOf(device);
  const go = (resolve) => oneList(world, spec, counter, io).then(resolve);
  for (let k = 0; k < 20; k++) {
    if (k % 3 === 0) await new Promise((resolve) => LOCAL.post(() => go(resolve)));
    else if (k % 3 === 1) await new Promise((resolve) => setTimeout(() => go(resolve), 1));
    else await new Promise((resolve) => go(resolve));
  }
  // Then one flipper alone (the loop's immediate count then drops to 0 and back on every
  // iteration, a path of its own), during reads of the scenario's own latency: on a VM, how
  // fast an idle CPU wakes adapts to the waits it has seen.
  world.stopped = true;
  await setImmediateP();
  await setImmediateP();
  world.stopped = false;
  setImmediate(immediateActor(world, actor, workspaceNames(actor, 2, null)));
  if (device) for (let i = 0; i < 100; i++) await io(Math.min(s.list.per_row_io?.latency_ms ?? 0.05, 1));
  else for (let i = 0; i < 2000; i++) await new Promise((resolve) => LOCAL.post(resolve));
  world.stopped = true;
  for (let i = 0; i < 20; i++) await new Promise((resolve) => LOCAL.post(resolve));
  await setImmediateP();
  CLOCK.scale = 1;
  world.reset();
}

if (!isMainThread && workerData?.device) {
  runDevice(workerData);
} else if (isMainThread) {
  main(process.argv.slice(2)).catch((e) => {
    if (e instanceof InputError) { warn(e.message); process.exit(2); }
    fatal(e.stack || String(e));
  });
}
