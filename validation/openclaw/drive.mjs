// Drive ONE real openclaw sessions.list in-process and report what its diagnostics timeline shows.
//
//   node22 drive.mjs --dist DIR --rows N --flipper on|off|cycleK --timeline FILE [--warmup K]
//
// DIR is an installed release's node_modules/openclaw/dist. The program imports that release's
// bundled chunks (found by content, exports resolved from each chunk's own `export { local as x }`
// list, because minified export names differ between releases), builds a temporary state dir with
// a real config and a session store of N rows, turns diagnostics on, optionally starts a flipper
// that calls the REAL setActivePluginRegistry with a new workspace dir on every loop iteration
// (re-armed with setImmediate, like PR #90819's harness) or, with `cycleK`, with the K workspace
// dirs ws-0 .. ws-(K-1) in turn (a cycle the memo may hold), calls the real `sessions.list`
// server-method handler once (after K warm-up calls of the same handler, as a long-running gateway
// has listed before: the first call of a fresh process carries one-off costs), and prints one JSON
// object on stdout about the last call. All times are milliseconds.
// Run one configuration per process: the memo and the registry state are process-global.

import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { pathToFileURL } from "node:url";

const DEFAULT_MODEL = "anthropic/claude-opus-4-6";
const OVERRIDE_MODEL = "claude-sonnet-4-6";

function parseArgs(argv) {
  const args = { flipper: "off", warmup: "0" };
  for (let i = 0; i < argv.length; i += 2) {
    const key = argv[i].replace(/^--/, "");
    if (argv[i + 1] === undefined) throw new Error(`missing value for ${argv[i]}`);
    args[key] = argv[i + 1];
  }
  for (const key of ["dist", "rows", "timeline"]) if (!args[key]) throw new Error(`--${key} is required`);
  if (!/^(on|off|cycle[1-9][0-9]*)$/.test(args.flipper)) throw new Error(`--flipper must be on, off or cycleK (K >= 1)`);
  args.rows = Number.parseInt(args.rows, 10);
  if (!(args.rows > 0)) throw new Error(`--rows must be a positive integer`);
  args.warmup = Number.parseInt(args.warmup, 10);
  if (!(args.warmup >= 0)) throw new Error(`--warmup must be a non-negative integer`);
  return args;
}

// ------------------------------------------------------------------ chunks and exports

/** Top-level .js chunks of dist whose text contains `needle` (a plain substring). */
function chunksContaining(dist, needle) {
  return fs
    .readdirSync(dist)
    .filter((name) => name.endsWith(".js"))
    .filter((name) => fs.readFileSync(path.join(dist, name), "utf8").includes(needle))
    .map((name) => path.join(dist, name));
}

/** Map local binding name -> exported name, from a chunk's `export { a as b, c }` statements. */
function exportMap(source) {
  const map = new Map();
  for (const match of source.matchAll(/^export\s*\{([^}]*)\};?\s*$/gm)) {
    for (const part of match[1].split(",")) {
      const [local, exported] = part.trim().split(/\s+as\s+/);
      if (local) map.set(local, exported ?? local);
    }
  }
  return map;
}

/** Import the one chunk that defines `definition` and return its export bound to local `name`. */
async function importDefined(dist, definition, name) {
  const chunks = chunksContaining(dist, definition);
  if (chunks.length !== 1) throw new Error(`${chunks.length} chunks define "${definition}" in ${dist}`);
  const exported = exportMap(fs.readFileSync(chunks[0], "utf8")).get(name);
  if (!exported) throw new Error(`${path.basename(chunks[0])} does not export ${name}`);
  const module = await import(pathToFileURL(chunks[0]).href);
  if (module[exported] === undefined) throw new Error(`${path.basename(chunks[0])}: export ${exported} missing`);
  return { value: module[exported], chunk: path.basename(chunks[0]), exported };
}

// ------------------------------------------------------------------ the state dir

/** A gateway config with a default model and a plugin entry (a plugin policy for the memo key). */
function gatewayConfig(stateDir) {
  return {
    agents: { defaults: { model: { primary: DEFAULT_MODEL }, workspace: path.join(stateDir, "workspace") } },
    plugins: { entries: { anthropic: { enabled: true } } },
    session: { store: path.join(stateDir, "sessions.json") },
  };
}

/** N session rows, each with only a model override: two plugin lookups per row (its override and
 *  the configured default model; an entry with provider and model set would make none). */
function sessionStore(rows, now) {
  const store = {};
  for (let i = 0; i < rows; i++) {
    const id = `00000000-0000-4000-8000-${String(i).padStart(12, "0")}`;
    store[`agent:main:validation-${i}`] = { sessionId: id, updatedAt: now - i * 1000, modelOverride: OVERRIDE_MODEL };
  }
  return store;
}

function makeStateDir(rows) {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "clawsim-openclaw-"));
  const stateDir = path.join(root, "state");
  fs.mkdirSync(path.join(stateDir, "workspace"), { recursive: true });
  const config = gatewayConfig(stateDir);
  fs.writeFileSync(path.join(stateDir, "openclaw.json"), JSON.stringify(config, null, 2));
  fs.writeFileSync(config.session.store, JSON.stringify(sessionStore(rows, Date.now()), null, 2));
  return { root, stateDir, configPath: path.join(stateDir, "openclaw.json") };
}

function setEnv(dirs, timeline) {
  Object.assign(process.env, {
    HOME: dirs.root,
    OPENCLAW_HOME: dirs.root,
    OPENCLAW_STATE_DIR: dirs.stateDir,
    OPENCLAW_CONFIG_PATH: dirs.configPath,
    OPENCLAW_DIAGNOSTICS: "1",
    OPENCLAW_DIAGNOSTICS_TIMELINE_PATH: timeline,
  });
}

// ------------------------------------------------------------------ the flipper

/** The PR's flipper: on every loop iteration, activate the registry for a never-seen workspace
 *  (`cycle` 0), or for the workspaces ws-0 .. ws-(cycle-1) in turn (`cycle` K >= 1). */
function startFlipper(setActivePluginRegistry, registry, root, cycle) {
  const flipper = { calls: 0, stopped: false };
  const tick = () => {
    if (flipper.stopped) return;
    const n = cycle > 0 ? flipper.calls % cycle : flipper.calls + 1;
    flipper.calls += 1;
    setActivePluginRegistry(registry, `flipper-${n}`, "default", path.join(root, `ws-${n}`));
    setImmediate(tick);
  };
  setImmediate(tick);
  return flipper;
}

// ------------------------------------------------------------------ the timeline

/** Counts of plugins.metadata.scan span ends under the last list's rows span, and their durations. */
function readTimeline(file, lists) {
  const events = fs.readFileSync(file, "utf8").split("\n").filter(Boolean).map((line) => JSON.parse(line));
  const ends = events.filter((e) => e.type === "span.end");
  const rows = ends.filter((e) => e.name === "gateway.sessions.list.rows");
  const root = ends.filter((e) => e.name === "gateway.sessions.list");
  if (rows.length !== lists || root.length !== lists) {
    throw new Error(`timeline has ${rows.length} rows spans, ${root.length} lists, expected ${lists}`);
  }
  const last = rows[lists - 1];
  const scans = ends.filter((e) => e.name === "plugins.metadata.scan");
  const under = scans.filter((e) => e.parentSpanId === last.spanId);
  const hits = under.filter((e) => e.attributes?.cacheHit === true);
  const misses = under.filter((e) => e.attributes?.cacheHit !== true);
  return {
    events: events.length,
    rows_span_ms: last.durationMs,
    store_entries: last.attributes?.storeEntries ?? null,
    list_span_ms: root[lists - 1].durationMs,
    scan_spans: under.length,
    full_scans: misses.length,
    cache_hits: hits.length,
    scan_spans_outside_rows: scans.length - under.length,
    full_scan_ms: misses.map((e) => e.durationMs),
    hit_ms: hits.map((e) => e.durationMs),
  };
}

// ------------------------------------------------------------------ main

async function loadApi(dist) {
  const handlers = await importDefined(dist, "gateway.sessions.list.rows", "sessionsHandlers");
  const setter = await importDefined(dist, "function setActivePluginRegistry(", "setActivePluginRegistry");
  const empty = await importDefined(dist, "function createEmptyPluginRegistry(", "createEmptyPluginRegistry");
  const config = await importDefined(dist, "function getRuntimeConfig(", "getRuntimeConfig");
  const rowsChunk = chunksContaining(dist, "SESSIONS_LIST_YIELD_BATCH_SIZE");
  const pinned = rowsChunk.some((file) => /withPinnedActivePluginRegistryWorkspaceDir\(async/.test(fs.readFileSync(file, "utf8")));
  return { handlers, setter, empty, config, pinned, rowsChunk: rowsChunk.map((f) => path.basename(f)) };
}

async function callSessionsList(handler, cfg, rows) {
  let response;
  const context = {
    getRuntimeConfig: () => cfg,
    loadGatewayModelCatalog: async () => [],
    chatAbortControllers: new Map(),
    logGateway: { debug() {}, info() {}, warn() {}, error() {} },
  };
  // An explicit limit: the default (SESSIONS_LIST_DEFAULT_LIMIT = 100) would cut 200 rows to 100.
  await handler({ params: { limit: rows }, respond: (ok, payload, error) => (response = { ok, payload, error }), context });
  if (!response?.ok) throw new Error(`sessions.list failed: ${JSON.stringify(response?.error ?? null)}`);
  return response.payload;
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const dirs = makeStateDir(args.rows);
  const timeline = path.resolve(args.timeline);
  fs.rmSync(timeline, { force: true });
  setEnv(dirs, timeline);
  const api = await loadApi(path.resolve(args.dist));
  const cfg = api.config.value();
  const registry = api.empty.value();
  // The gateway starts with its default workspace active (no flip yet).
  api.setter.value(registry, "gateway", "default", cfg.agents?.defaults?.workspace);
  const cycle = args.flipper.startsWith("cycle") ? Number.parseInt(args.flipper.slice(5), 10) : 0;
  const flipper = args.flipper === "off" ? null : startFlipper(api.setter.value, registry, dirs.root, cycle);
  const handler = api.handlers.value["sessions.list"];
  for (let k = 0; k < args.warmup; k++) await callSessionsList(handler, cfg, args.rows);
  const before = flipper?.calls ?? 0;
  const started = performance.now();
  const payload = await callSessionsList(handler, cfg, args.rows);
  const listMs = performance.now() - started;
  const flips = (flipper?.calls ?? 0) - before;
  if (flipper) flipper.stopped = true;
  if (payload.sessions.length !== args.rows) throw new Error(`listed ${payload.sessions.length} rows, not ${args.rows}`);
  const result = {
    node: process.version,
    dist: path.resolve(args.dist),
    rows: args.rows,
    flipper: args.flipper,
    warmup: args.warmup,
    pinned_in_dist: api.pinned,
    chunks: { rows: api.rowsChunk, handler: api.handlers.chunk, setter: api.setter.chunk },
    sessions_returned: payload.sessions.length,
    flips,
    list_ms: listMs,
    ...readTimeline(timeline, args.warmup + 1),
  };
  fs.rmSync(dirs.root, { recursive: true, force: true });
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

main().catch((error) => {
  process.stderr.write(`drive.mjs: ${error?.stack ?? error}\n`);
  process.exit(1);
});
