
use builtin;
use str;

set edit:completion:arg-completer[flowtrace] = {|@words|
    fn spaces {|n|
        builtin:repeat $n ' ' | str:join ''
    }
    fn cand {|text desc|
        edit:complex-candidate $text &display=$text' '(spaces (- 14 (wcswidth $text)))$desc
    }
    var command = 'flowtrace'
    for word $words[1..-1] {
        if (str:has-prefix $word '-') {
            break
        }
        set command = $command';'$word
    }
    var completions = [
        &'flowtrace'= {
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
            cand events 'Print the selected events, normalized, in time order'
            cand find 'Where did this trace stop, and why: timeline, last success, next node, what to do'
            cand classify 'What is failing across the flow: failures by category, node, tenant or time, top exceptions, and what to do about each'
            cand saturation 'Is the flow stuck: queue depth over time, latency percentiles, retries, the bottleneck'
            cand traces 'One row per trace: status, category, duration, last node; find the traces worth opening'
            cand graph 'The flow''s topology as the telemetry shows it: nodes, edges with trace counts, failures'
            cand triage 'The whole incident on one screen: size, worst traces, saturation, control plane, cross-tenant traces and one checklist; the command to run first'
            cand import 'Write the events of logs into a SQLite store (PenguiFlow''s flow_events schema), to archive an incident once and query it in milliseconds afterwards'
            cand metrics 'Dashboards after the fact: the metrics PenguiFlow''s guidance recommends, derived from the events, as OpenMetrics that `promtool tsdb create-blocks-from openmetrics` loads'
            cand completions 'Print a shell completion script (bash, zsh, fish, powershell, elvish)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'flowtrace;events'= {
            cand --store 'The event store (PenguiFlow''s flow_events table), read-only, never modified: a SQLite file, or a PostgreSQL URL postgres://user@host:5432/db (PG* variables and ~/.pgpass give what it leaves out; sslmode=require encrypts)'
            cand --table 'The events table of --store (PostgreSQL: schema.table allowed)'
            cand --store-timeout 'With a PostgreSQL --store: the longest one query may run before it is cancelled'
            cand -j 'Threads decoding each log input, 1 to 64 [default: one per core]; 1 leaves a core free'
            cand --threads 'Threads decoding each log input, 1 to 64 [default: one per core]; 1 leaves a core free'
            cand --max-line-bytes 'Longest line read, in bytes: longer ones are skipped and counted (memory stays bounded on a file without line ends or a decompression bomb)'
            cand --reorder-window 'With --follow: how long an event is held so that an earlier one from another input or pod can go first; one that comes later still is printed marked `late`'
            cand --idle 'With --follow: say so once on stderr after this long without an event (`0`: never)'
            cand --interval 'With --follow --store: how often the store is asked for new rows (read-only queries)'
            cand --trace 'Only this trace id (repeat or comma-separate for several)'
            cand --tenant 'Only events of this tenant (taken from the line, or propagated within its trace)'
            cand --node 'Only events of this node name'
            cand --pod 'Only events of this pod (from `kubectl logs --prefix`: `[pod/NAME/CONTAINER]`)'
            cand --kind 'Only events of this kind, e.g. node_failed (repeat or comma-separate for several)'
            cand --since 'Only events at or after this time: RFC 3339 (2026-11-25T08:00:00Z) or a duration (30s, 15m, 2h, 1d) before the newest event read, or before now with --now'
            cand --until 'Only events at or before this time: RFC 3339 or a duration, as for --since'
            cand --format 'Output format [default: table on a terminal, jsonl when piped]'
            cand --color 'When to color the output; `auto` colors a terminal unless NO_COLOR is set'
            cand --strict 'Stop with an error at the first line that is not a JSON object (after kubectl prefixes)'
            cand -q 'Do not print the summary of skipped lines on stderr'
            cand --quiet 'Do not print the summary of skipped lines on stderr'
            cand -f 'Keep reading as the input grows, printing events as they come: standard input (say `kubectl logs -f`) until it closes, files as `tail -F` does (from their end, or from --since; reopened when rotated or truncated, said on stderr) until Ctrl-C'
            cand --follow 'Keep reading as the input grows, printing events as they come: standard input (say `kubectl logs -f`) until it closes, files as `tail -F` does (from their end, or from --since; reopened when rotated or truncated, said on stderr) until Ctrl-C'
            cand --now 'Count --since/--until durations back from the current clock, not from the newest event'
            cand --no-redact 'Show exception text whole; by default secrets in it (API keys, tokens, passwords in URLs, long hex/base64 strings) are masked'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'flowtrace;find'= {
            cand --store 'The event store (PenguiFlow''s flow_events table), read-only, never modified: a SQLite file, or a PostgreSQL URL postgres://user@host:5432/db (PG* variables and ~/.pgpass give what it leaves out; sslmode=require encrypts)'
            cand --table 'The events table of --store (PostgreSQL: schema.table allowed)'
            cand --store-timeout 'With a PostgreSQL --store: the longest one query may run before it is cancelled'
            cand -j 'Threads decoding each log input, 1 to 64 [default: one per core]; 1 leaves a core free'
            cand --threads 'Threads decoding each log input, 1 to 64 [default: one per core]; 1 leaves a core free'
            cand --max-line-bytes 'Longest line read, in bytes: longer ones are skipped and counted (memory stays bounded on a file without line ends or a decompression bomb)'
            cand --reorder-window 'With --follow: how long an event is held so that an earlier one from another input or pod can go first; one that comes later still is printed marked `late`'
            cand --idle 'With --follow: say so once on stderr after this long without an event (`0`: never)'
            cand --interval 'With --follow --store: how often the store is asked for new rows (read-only queries)'
            cand --trace 'Only this trace id (repeat or comma-separate for several)'
            cand --tenant 'Only events of this tenant (taken from the line, or propagated within its trace)'
            cand --node 'Only events of this node name'
            cand --pod 'Only events of this pod (from `kubectl logs --prefix`: `[pod/NAME/CONTAINER]`)'
            cand --kind 'Only events of this kind, e.g. node_failed (repeat or comma-separate for several)'
            cand --since 'Only events at or after this time: RFC 3339 (2026-11-25T08:00:00Z) or a duration (30s, 15m, 2h, 1d) before the newest event read, or before now with --now'
            cand --until 'Only events at or before this time: RFC 3339 or a duration, as for --since'
            cand --format 'Output format [default: table]'
            cand --color 'When to color the output; `auto` colors a terminal unless NO_COLOR is set'
            cand --strict 'Stop with an error at the first line that is not a JSON object (after kubectl prefixes)'
            cand -q 'Do not print the summary of skipped lines on stderr'
            cand --quiet 'Do not print the summary of skipped lines on stderr'
            cand -f 'Keep reading as the input grows, printing events as they come: standard input (say `kubectl logs -f`) until it closes, files as `tail -F` does (from their end, or from --since; reopened when rotated or truncated, said on stderr) until Ctrl-C'
            cand --follow 'Keep reading as the input grows, printing events as they come: standard input (say `kubectl logs -f`) until it closes, files as `tail -F` does (from their end, or from --since; reopened when rotated or truncated, said on stderr) until Ctrl-C'
            cand --keep 'With --follow: keep following after the trace reaches a terminal status'
            cand --now 'Count --since/--until durations back from the current clock, not from the newest event'
            cand --all 'Show node_start rows in the timeline too (by default folded into the attempt they began)'
            cand --full-scan 'Parse every line: learn the flow graph (and the next node''s queue depth) from the whole input instead of from each input''s first 20,000 lines and the trace''s own lines (slower)'
            cand --no-redact 'Show exception text whole; by default secrets in it (API keys, tokens, passwords in URLs, long hex/base64 strings) are masked'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'flowtrace;classify'= {
            cand --store 'The event store (PenguiFlow''s flow_events table), read-only, never modified: a SQLite file, or a PostgreSQL URL postgres://user@host:5432/db (PG* variables and ~/.pgpass give what it leaves out; sslmode=require encrypts)'
            cand --table 'The events table of --store (PostgreSQL: schema.table allowed)'
            cand --store-timeout 'With a PostgreSQL --store: the longest one query may run before it is cancelled'
            cand -j 'Threads decoding each log input, 1 to 64 [default: one per core]; 1 leaves a core free'
            cand --threads 'Threads decoding each log input, 1 to 64 [default: one per core]; 1 leaves a core free'
            cand --max-line-bytes 'Longest line read, in bytes: longer ones are skipped and counted (memory stays bounded on a file without line ends or a decompression bomb)'
            cand --trace 'Only this trace id (repeat or comma-separate for several)'
            cand --tenant 'Only events of this tenant (taken from the line, or propagated within its trace)'
            cand --node 'Only events of this node name'
            cand --pod 'Only events of this pod (from `kubectl logs --prefix`: `[pod/NAME/CONTAINER]`)'
            cand --kind 'Only events of this kind, e.g. node_failed (repeat or comma-separate for several)'
            cand --since 'Only events at or after this time: RFC 3339 (2026-11-25T08:00:00Z) or a duration (30s, 15m, 2h, 1d) before the newest event read, or before now with --now'
            cand --until 'Only events at or before this time: RFC 3339 or a duration, as for --since'
            cand --by 'Group failures by node, tenant, kind, pod, or over time (second, minute, hour); two comma-separated give one row per pair, e.g. `--by tenant,node`'
            cand --fail-on 'Exit with status 3 when any of these categories occurred (comma-separated)'
            cand --format 'Output format [default: table]'
            cand --color 'When to color the output; `auto` colors a terminal unless NO_COLOR is set'
            cand --strict 'Stop with an error at the first line that is not a JSON object (after kubectl prefixes)'
            cand -q 'Do not print the summary of skipped lines on stderr'
            cand --quiet 'Do not print the summary of skipped lines on stderr'
            cand --now 'Count --since/--until durations back from the current clock, not from the newest event'
            cand --messages 'Show one example message (masked) per exception type'
            cand --no-redact 'Show exception text whole; by default secrets in it (API keys, tokens, passwords in URLs, long hex/base64 strings) are masked'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'flowtrace;saturation'= {
            cand --store 'The event store (PenguiFlow''s flow_events table), read-only, never modified: a SQLite file, or a PostgreSQL URL postgres://user@host:5432/db (PG* variables and ~/.pgpass give what it leaves out; sslmode=require encrypts)'
            cand --table 'The events table of --store (PostgreSQL: schema.table allowed)'
            cand --store-timeout 'With a PostgreSQL --store: the longest one query may run before it is cancelled'
            cand -j 'Threads decoding each log input, 1 to 64 [default: one per core]; 1 leaves a core free'
            cand --threads 'Threads decoding each log input, 1 to 64 [default: one per core]; 1 leaves a core free'
            cand --max-line-bytes 'Longest line read, in bytes: longer ones are skipped and counted (memory stays bounded on a file without line ends or a decompression bomb)'
            cand --window 'With --watch: the span of log time each report covers'
            cand --interval 'With --watch: how often the report is recomputed'
            cand --reorder-window 'With --watch: how long an event is held so that an earlier one from another input or pod can go first'
            cand --idle 'With --watch: say so once on stderr after this long without an event (`0`: never)'
            cand --trace 'Only this trace id (repeat or comma-separate for several)'
            cand --tenant 'Only events of this tenant (taken from the line, or propagated within its trace)'
            cand --node 'Only events of this node name'
            cand --pod 'Only events of this pod (from `kubectl logs --prefix`: `[pod/NAME/CONTAINER]`)'
            cand --kind 'Only events of this kind, e.g. node_failed (repeat or comma-separate for several)'
            cand --since 'Only events at or after this time: RFC 3339 (2026-11-25T08:00:00Z) or a duration (30s, 15m, 2h, 1d) before the newest event read, or before now with --now'
            cand --until 'Only events at or before this time: RFC 3339 or a duration, as for --since'
            cand --bucket 'Bucket width of the time series, e.g. 10s, 1m, 5m [default: about 40 buckets]'
            cand --threshold 'Share of a bounded queue''s capacity above which a node is saturated (unbounded queues: twice their own p95)'
            cand --sustain 'Consecutive buckets a condition must last to be reported'
            cand --retry-rate 'Retry rate (node_retry / node_success) above which a node has a retry storm'
            cand --format 'Output format [default: table]'
            cand --color 'When to color the output; `auto` colors a terminal unless NO_COLOR is set'
            cand --strict 'Stop with an error at the first line that is not a JSON object (after kubectl prefixes)'
            cand -q 'Do not print the summary of skipped lines on stderr'
            cand --quiet 'Do not print the summary of skipped lines on stderr'
            cand --watch 'A live view: follow the input (stdin, or files as `tail -F` does) and redraw the report over the last --window of events every --interval, like top; piped, write one JSON report per interval instead (JSON lines). Ctrl-C ends'
            cand --now 'Count --since/--until durations back from the current clock, not from the newest event'
            cand --no-redact 'Show exception text whole; by default secrets in it (API keys, tokens, passwords in URLs, long hex/base64 strings) are masked'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'flowtrace;traces'= {
            cand --store 'The event store (PenguiFlow''s flow_events table), read-only, never modified: a SQLite file, or a PostgreSQL URL postgres://user@host:5432/db (PG* variables and ~/.pgpass give what it leaves out; sslmode=require encrypts)'
            cand --table 'The events table of --store (PostgreSQL: schema.table allowed)'
            cand --store-timeout 'With a PostgreSQL --store: the longest one query may run before it is cancelled'
            cand -j 'Threads decoding each log input, 1 to 64 [default: one per core]; 1 leaves a core free'
            cand --threads 'Threads decoding each log input, 1 to 64 [default: one per core]; 1 leaves a core free'
            cand --max-line-bytes 'Longest line read, in bytes: longer ones are skipped and counted (memory stays bounded on a file without line ends or a decompression bomb)'
            cand --trace 'Only this trace id (repeat or comma-separate for several)'
            cand --tenant 'Only events of this tenant (taken from the line, or propagated within its trace)'
            cand --node 'Only events of this node name'
            cand --pod 'Only events of this pod (from `kubectl logs --prefix`: `[pod/NAME/CONTAINER]`)'
            cand --kind 'Only events of this kind, e.g. node_failed (repeat or comma-separate for several)'
            cand --since 'Only events at or after this time: RFC 3339 (2026-11-25T08:00:00Z) or a duration (30s, 15m, 2h, 1d) before the newest event read, or before now with --now'
            cand --until 'Only events at or before this time: RFC 3339 or a duration, as for --since'
            cand --status 'Only traces with this status (comma-separated): succeeded, failed, cancelled, deadline_skipped, in_flight'
            cand --category 'Only traces whose failure category is one of these (comma-separated)'
            cand --sort 'Order of the rows'
            cand --limit 'Show at most N rows [default: 50 on a terminal, all when piped]'
            cand --format 'Output format [default: table on a terminal, json when piped]'
            cand --color 'When to color the output; `auto` colors a terminal unless NO_COLOR is set'
            cand --strict 'Stop with an error at the first line that is not a JSON object (after kubectl prefixes)'
            cand -q 'Do not print the summary of skipped lines on stderr'
            cand --quiet 'Do not print the summary of skipped lines on stderr'
            cand --now 'Count --since/--until durations back from the current clock, not from the newest event'
            cand --no-redact 'Show exception text whole; by default secrets in it (API keys, tokens, passwords in URLs, long hex/base64 strings) are masked'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'flowtrace;graph'= {
            cand --store 'The event store (PenguiFlow''s flow_events table), read-only, never modified: a SQLite file, or a PostgreSQL URL postgres://user@host:5432/db (PG* variables and ~/.pgpass give what it leaves out; sslmode=require encrypts)'
            cand --table 'The events table of --store (PostgreSQL: schema.table allowed)'
            cand --store-timeout 'With a PostgreSQL --store: the longest one query may run before it is cancelled'
            cand -j 'Threads decoding each log input, 1 to 64 [default: one per core]; 1 leaves a core free'
            cand --threads 'Threads decoding each log input, 1 to 64 [default: one per core]; 1 leaves a core free'
            cand --max-line-bytes 'Longest line read, in bytes: longer ones are skipped and counted (memory stays bounded on a file without line ends or a decompression bomb)'
            cand --trace 'Only this trace id (repeat or comma-separate for several)'
            cand --tenant 'Only events of this tenant (taken from the line, or propagated within its trace)'
            cand --node 'Only events of this node name'
            cand --pod 'Only events of this pod (from `kubectl logs --prefix`: `[pod/NAME/CONTAINER]`)'
            cand --kind 'Only events of this kind, e.g. node_failed (repeat or comma-separate for several)'
            cand --since 'Only events at or after this time: RFC 3339 (2026-11-25T08:00:00Z) or a duration (30s, 15m, 2h, 1d) before the newest event read, or before now with --now'
            cand --until 'Only events at or before this time: RFC 3339 or a duration, as for --since'
            cand --format 'Output format'
            cand --color 'When to color the output; `auto` colors a terminal unless NO_COLOR is set'
            cand --strict 'Stop with an error at the first line that is not a JSON object (after kubectl prefixes)'
            cand -q 'Do not print the summary of skipped lines on stderr'
            cand --quiet 'Do not print the summary of skipped lines on stderr'
            cand --now 'Count --since/--until durations back from the current clock, not from the newest event'
            cand --no-redact 'Show exception text whole; by default secrets in it (API keys, tokens, passwords in URLs, long hex/base64 strings) are masked'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'flowtrace;triage'= {
            cand --store 'The event store (PenguiFlow''s flow_events table), read-only, never modified: a SQLite file, or a PostgreSQL URL postgres://user@host:5432/db (PG* variables and ~/.pgpass give what it leaves out; sslmode=require encrypts)'
            cand --table 'The events table of --store (PostgreSQL: schema.table allowed)'
            cand --store-timeout 'With a PostgreSQL --store: the longest one query may run before it is cancelled'
            cand -j 'Threads decoding each log input, 1 to 64 [default: one per core]; 1 leaves a core free'
            cand --threads 'Threads decoding each log input, 1 to 64 [default: one per core]; 1 leaves a core free'
            cand --max-line-bytes 'Longest line read, in bytes: longer ones are skipped and counted (memory stays bounded on a file without line ends or a decompression bomb)'
            cand --window 'With --watch: the span of log time each report covers'
            cand --interval 'With --watch: how often the report is recomputed'
            cand --reorder-window 'With --watch: how long an event is held so that an earlier one from another input or pod can go first'
            cand --idle 'With --watch: say so once on stderr after this long without an event (`0`: never)'
            cand --trace 'Only this trace id (repeat or comma-separate for several)'
            cand --tenant 'Only events of this tenant (taken from the line, or propagated within its trace)'
            cand --node 'Only events of this node name'
            cand --pod 'Only events of this pod (from `kubectl logs --prefix`: `[pod/NAME/CONTAINER]`)'
            cand --kind 'Only events of this kind, e.g. node_failed (repeat or comma-separate for several)'
            cand --since 'Only events at or after this time: RFC 3339 (2026-11-25T08:00:00Z) or a duration (30s, 15m, 2h, 1d) before the newest event read, or before now with --now'
            cand --until 'Only events at or before this time: RFC 3339 or a duration, as for --since'
            cand --format 'Output format [default: table]'
            cand --color 'When to color the output; `auto` colors a terminal unless NO_COLOR is set'
            cand --strict 'Stop with an error at the first line that is not a JSON object (after kubectl prefixes)'
            cand -q 'Do not print the summary of skipped lines on stderr'
            cand --quiet 'Do not print the summary of skipped lines on stderr'
            cand --watch 'A live view: follow the input (stdin, or files as `tail -F` does) and redraw the report over the last --window of events every --interval, like top; piped, write one JSON report per interval instead (JSON lines). Ctrl-C ends'
            cand --now 'Count --since/--until durations back from the current clock, not from the newest event'
            cand --no-redact 'Show exception text whole; by default secrets in it (API keys, tokens, passwords in URLs, long hex/base64 strings) are masked'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'flowtrace;import'= {
            cand --store 'The store to write (created with the flow_events schema if missing): a SQLite file, or a PostgreSQL URL postgres://user@host:5432/db (the table and its indexes created there)'
            cand --table 'The events table of the store'
            cand -j 'Threads decoding each log input, 1 to 64 [default: one per core]'
            cand --threads 'Threads decoding each log input, 1 to 64 [default: one per core]'
            cand --max-line-bytes 'Longest line read, in bytes: longer ones are skipped and counted'
            cand --trace 'Only this trace id (repeat or comma-separate for several)'
            cand --tenant 'Only events of this tenant (taken from the line, or propagated within its trace)'
            cand --node 'Only events of this node name'
            cand --pod 'Only events of this pod (from `kubectl logs --prefix`: `[pod/NAME/CONTAINER]`)'
            cand --kind 'Only events of this kind, e.g. node_failed (repeat or comma-separate for several)'
            cand --since 'Only events at or after this time: RFC 3339 (2026-11-25T08:00:00Z) or a duration (30s, 15m, 2h, 1d) before the newest event read, or before now with --now'
            cand --until 'Only events at or before this time: RFC 3339 or a duration, as for --since'
            cand --strict 'Stop with an error at the first line that is not a JSON object'
            cand -q 'Do not print the summary on stderr'
            cand --quiet 'Do not print the summary on stderr'
            cand --now 'Count --since/--until durations back from the current clock, not from the newest event'
            cand --no-redact 'Store exception text whole; by default secrets in it are masked before writing'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'flowtrace;metrics'= {
            cand --store 'The event store (PenguiFlow''s flow_events table), read-only, never modified: a SQLite file, or a PostgreSQL URL postgres://user@host:5432/db (PG* variables and ~/.pgpass give what it leaves out; sslmode=require encrypts)'
            cand --table 'The events table of --store (PostgreSQL: schema.table allowed)'
            cand --store-timeout 'With a PostgreSQL --store: the longest one query may run before it is cancelled'
            cand -j 'Threads decoding each log input, 1 to 64 [default: one per core]; 1 leaves a core free'
            cand --threads 'Threads decoding each log input, 1 to 64 [default: one per core]; 1 leaves a core free'
            cand --max-line-bytes 'Longest line read, in bytes: longer ones are skipped and counted (memory stays bounded on a file without line ends or a decompression bomb)'
            cand --trace 'Only this trace id (repeat or comma-separate for several)'
            cand --tenant 'Only events of this tenant (taken from the line, or propagated within its trace)'
            cand --node 'Only events of this node name'
            cand --pod 'Only events of this pod (from `kubectl logs --prefix`: `[pod/NAME/CONTAINER]`)'
            cand --kind 'Only events of this kind, e.g. node_failed (repeat or comma-separate for several)'
            cand --since 'Only events at or after this time: RFC 3339 (2026-11-25T08:00:00Z) or a duration (30s, 15m, 2h, 1d) before the newest event read, or before now with --now'
            cand --until 'Only events at or before this time: RFC 3339 or a duration, as for --since'
            cand --step 'One sample per series per step'
            cand -o 'Where to write (`-`: standard output)'
            cand --out 'Where to write (`-`: standard output)'
            cand --format 'openmetrics: the metrics; prometheus-rules: starter alert rules over them (no input read)'
            cand --strict 'Stop with an error at the first line that is not a JSON object (after kubectl prefixes)'
            cand -q 'Do not print the summary of skipped lines on stderr'
            cand --quiet 'Do not print the summary of skipped lines on stderr'
            cand --now 'Count --since/--until durations back from the current clock, not from the newest event'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'flowtrace;completions'= {
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'flowtrace;help'= {
            cand events 'Print the selected events, normalized, in time order'
            cand find 'Where did this trace stop, and why: timeline, last success, next node, what to do'
            cand classify 'What is failing across the flow: failures by category, node, tenant or time, top exceptions, and what to do about each'
            cand saturation 'Is the flow stuck: queue depth over time, latency percentiles, retries, the bottleneck'
            cand traces 'One row per trace: status, category, duration, last node; find the traces worth opening'
            cand graph 'The flow''s topology as the telemetry shows it: nodes, edges with trace counts, failures'
            cand triage 'The whole incident on one screen: size, worst traces, saturation, control plane, cross-tenant traces and one checklist; the command to run first'
            cand import 'Write the events of logs into a SQLite store (PenguiFlow''s flow_events schema), to archive an incident once and query it in milliseconds afterwards'
            cand metrics 'Dashboards after the fact: the metrics PenguiFlow''s guidance recommends, derived from the events, as OpenMetrics that `promtool tsdb create-blocks-from openmetrics` loads'
            cand completions 'Print a shell completion script (bash, zsh, fish, powershell, elvish)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'flowtrace;help;events'= {
        }
        &'flowtrace;help;find'= {
        }
        &'flowtrace;help;classify'= {
        }
        &'flowtrace;help;saturation'= {
        }
        &'flowtrace;help;traces'= {
        }
        &'flowtrace;help;graph'= {
        }
        &'flowtrace;help;triage'= {
        }
        &'flowtrace;help;import'= {
        }
        &'flowtrace;help;metrics'= {
        }
        &'flowtrace;help;completions'= {
        }
        &'flowtrace;help;help'= {
        }
    ]
    $completions[$command]
}
