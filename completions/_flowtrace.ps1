
using namespace System.Management.Automation
using namespace System.Management.Automation.Language

Register-ArgumentCompleter -Native -CommandName 'flowtrace' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $commandElements = $commandAst.CommandElements
    $command = @(
        'flowtrace'
        for ($i = 1; $i -lt $commandElements.Count; $i++) {
            $element = $commandElements[$i]
            if ($element -isnot [StringConstantExpressionAst] -or
                $element.StringConstantType -ne [StringConstantType]::BareWord -or
                $element.Value.StartsWith('-') -or
                $element.Value -eq $wordToComplete) {
                break
        }
        $element.Value
    }) -join ';'

    $completions = @(switch ($command) {
        'flowtrace' {
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('events', 'events', [CompletionResultType]::ParameterValue, 'Print the selected events, normalized, in time order')
            [CompletionResult]::new('find', 'find', [CompletionResultType]::ParameterValue, 'Where did this trace stop, and why: timeline, last success, next node, what to do')
            [CompletionResult]::new('classify', 'classify', [CompletionResultType]::ParameterValue, 'What is failing across the flow: failures by category, node, tenant or time, top exceptions, and what to do about each')
            [CompletionResult]::new('saturation', 'saturation', [CompletionResultType]::ParameterValue, 'Is the flow stuck: queue depth over time, latency percentiles, retries, the bottleneck')
            [CompletionResult]::new('traces', 'traces', [CompletionResultType]::ParameterValue, 'One row per trace: status, category, duration, last node; find the traces worth opening')
            [CompletionResult]::new('graph', 'graph', [CompletionResultType]::ParameterValue, 'The flow''s topology as the telemetry shows it: nodes, edges with trace counts, failures')
            [CompletionResult]::new('triage', 'triage', [CompletionResultType]::ParameterValue, 'The whole incident on one screen: size, worst traces, saturation, control plane, cross-tenant traces and one checklist; the command to run first')
            [CompletionResult]::new('report', 'report', [CompletionResultType]::ParameterValue, 'The incident report as one self-contained HTML page: triage''s verdicts and checklist, charts, the flow graph and the worst traces'' timelines; for the incident ticket')
            [CompletionResult]::new('import', 'import', [CompletionResultType]::ParameterValue, 'Write the events of logs into an event store, SQLite or PostgreSQL (PenguiFlow''s flow_events schema), to archive an incident once and query it in milliseconds afterwards')
            [CompletionResult]::new('lint', 'lint', [CompletionResultType]::ParameterValue, 'Telemetry defects: what makes incidents undebuggable, costly, leaky or lossy, with locations and the fix')
            [CompletionResult]::new('metrics', 'metrics', [CompletionResultType]::ParameterValue, 'Dashboards after the fact: the metrics PenguiFlow''s guidance recommends, derived from the events, as OpenMetrics that `promtool tsdb create-blocks-from openmetrics` loads')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print a shell completion script (bash, zsh, fish, powershell, elvish)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'flowtrace;events' {
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'The event store (PenguiFlow''s flow_events table), read-only, never modified: a SQLite file, or a PostgreSQL URL postgres://user@host:5432/db (PG* variables and ~/.pgpass give what it leaves out; sslmode=require encrypts)')
            [CompletionResult]::new('--table', '--table', [CompletionResultType]::ParameterName, 'The events table of --store (PostgreSQL: schema.table allowed)')
            [CompletionResult]::new('--store-timeout', '--store-timeout', [CompletionResultType]::ParameterName, 'With a PostgreSQL --store: the longest one query may run before it is cancelled')
            [CompletionResult]::new('-j', '-j', [CompletionResultType]::ParameterName, 'Threads for each stage that runs in parallel, 1 to 64: decoding each log input [default: one per core but one], and following traces for classify, traces, triage, graph and report [default: none beside the ordering thread on up to three cores, a quarter of the cores (2 to 8) beyond]; 1 leaves cores free. Any -j gives the same answer')
            [CompletionResult]::new('--threads', '--threads', [CompletionResultType]::ParameterName, 'Threads for each stage that runs in parallel, 1 to 64: decoding each log input [default: one per core but one], and following traces for classify, traces, triage, graph and report [default: none beside the ordering thread on up to three cores, a quarter of the cores (2 to 8) beyond]; 1 leaves cores free. Any -j gives the same answer')
            [CompletionResult]::new('--max-line-bytes', '--max-line-bytes', [CompletionResultType]::ParameterName, 'Longest line read, in bytes: longer ones are skipped and counted (memory stays bounded on a file without line ends or a decompression bomb)')
            [CompletionResult]::new('--reorder-window', '--reorder-window', [CompletionResultType]::ParameterName, 'With --follow: how long an event is held so that an earlier one from another input or pod can go first; one that comes later still is printed marked `late`')
            [CompletionResult]::new('--idle', '--idle', [CompletionResultType]::ParameterName, 'With --follow: say so once on stderr after this long without an event (`0`: never)')
            [CompletionResult]::new('--interval', '--interval', [CompletionResultType]::ParameterName, 'With --follow --store: how often the store is asked for new rows (read-only queries)')
            [CompletionResult]::new('--trace', '--trace', [CompletionResultType]::ParameterName, 'Only this trace id (repeat or comma-separate for several)')
            [CompletionResult]::new('--tenant', '--tenant', [CompletionResultType]::ParameterName, 'Only events of this tenant (taken from the line, or propagated within its trace)')
            [CompletionResult]::new('--node', '--node', [CompletionResultType]::ParameterName, 'Only events of this node name')
            [CompletionResult]::new('--pod', '--pod', [CompletionResultType]::ParameterName, 'Only events of this pod (from `kubectl logs --prefix`: `[pod/NAME/CONTAINER]`)')
            [CompletionResult]::new('--kind', '--kind', [CompletionResultType]::ParameterName, 'Only events of this kind, e.g. node_failed (repeat or comma-separate for several)')
            [CompletionResult]::new('--since', '--since', [CompletionResultType]::ParameterName, 'Only events at or after this time: RFC 3339 (2026-11-25T08:00:00Z) or a duration (30s, 15m, 2h, 1d) before the newest event read, or before now with --now')
            [CompletionResult]::new('--until', '--until', [CompletionResultType]::ParameterName, 'Only events at or before this time: RFC 3339 or a duration, as for --since')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format [default: table on a terminal, jsonl when piped]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to color the output; `auto` colors a terminal unless NO_COLOR is set')
            [CompletionResult]::new('--strict', '--strict', [CompletionResultType]::ParameterName, 'Stop with an error at the first line that is not a JSON object (after kubectl prefixes) or is longer than --max-line-bytes')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Do not print the summary of skipped lines on stderr')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Do not print the summary of skipped lines on stderr')
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'Keep reading as the input grows, printing events as they come: standard input (say `kubectl logs -f`) until it closes, files as `tail -F` does (from their end, or from --since; reopened when rotated, truncated or deleted and recreated, said on stderr) until Ctrl-C')
            [CompletionResult]::new('--follow', '--follow', [CompletionResultType]::ParameterName, 'Keep reading as the input grows, printing events as they come: standard input (say `kubectl logs -f`) until it closes, files as `tail -F` does (from their end, or from --since; reopened when rotated, truncated or deleted and recreated, said on stderr) until Ctrl-C')
            [CompletionResult]::new('--now', '--now', [CompletionResultType]::ParameterName, 'Count --since/--until durations back from the current clock, not from the newest event')
            [CompletionResult]::new('--no-redact', '--no-redact', [CompletionResultType]::ParameterName, 'Show exception text whole; by default secrets in it (API keys, tokens, passwords in URLs, long hex/base64 strings) are masked')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'flowtrace;find' {
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'The event store (PenguiFlow''s flow_events table), read-only, never modified: a SQLite file, or a PostgreSQL URL postgres://user@host:5432/db (PG* variables and ~/.pgpass give what it leaves out; sslmode=require encrypts)')
            [CompletionResult]::new('--table', '--table', [CompletionResultType]::ParameterName, 'The events table of --store (PostgreSQL: schema.table allowed)')
            [CompletionResult]::new('--store-timeout', '--store-timeout', [CompletionResultType]::ParameterName, 'With a PostgreSQL --store: the longest one query may run before it is cancelled')
            [CompletionResult]::new('-j', '-j', [CompletionResultType]::ParameterName, 'Threads for each stage that runs in parallel, 1 to 64: decoding each log input [default: one per core but one], and following traces for classify, traces, triage, graph and report [default: none beside the ordering thread on up to three cores, a quarter of the cores (2 to 8) beyond]; 1 leaves cores free. Any -j gives the same answer')
            [CompletionResult]::new('--threads', '--threads', [CompletionResultType]::ParameterName, 'Threads for each stage that runs in parallel, 1 to 64: decoding each log input [default: one per core but one], and following traces for classify, traces, triage, graph and report [default: none beside the ordering thread on up to three cores, a quarter of the cores (2 to 8) beyond]; 1 leaves cores free. Any -j gives the same answer')
            [CompletionResult]::new('--max-line-bytes', '--max-line-bytes', [CompletionResultType]::ParameterName, 'Longest line read, in bytes: longer ones are skipped and counted (memory stays bounded on a file without line ends or a decompression bomb)')
            [CompletionResult]::new('--reorder-window', '--reorder-window', [CompletionResultType]::ParameterName, 'With --follow: how long an event is held so that an earlier one from another input or pod can go first; one that comes later still is printed marked `late`')
            [CompletionResult]::new('--idle', '--idle', [CompletionResultType]::ParameterName, 'With --follow: say so once on stderr after this long without an event (`0`: never)')
            [CompletionResult]::new('--interval', '--interval', [CompletionResultType]::ParameterName, 'With --follow --store: how often the store is asked for new rows (read-only queries)')
            [CompletionResult]::new('--trace', '--trace', [CompletionResultType]::ParameterName, 'Only this trace id (repeat or comma-separate for several)')
            [CompletionResult]::new('--tenant', '--tenant', [CompletionResultType]::ParameterName, 'Only events of this tenant (taken from the line, or propagated within its trace)')
            [CompletionResult]::new('--node', '--node', [CompletionResultType]::ParameterName, 'Only events of this node name')
            [CompletionResult]::new('--pod', '--pod', [CompletionResultType]::ParameterName, 'Only events of this pod (from `kubectl logs --prefix`: `[pod/NAME/CONTAINER]`)')
            [CompletionResult]::new('--kind', '--kind', [CompletionResultType]::ParameterName, 'Only events of this kind, e.g. node_failed (repeat or comma-separate for several)')
            [CompletionResult]::new('--since', '--since', [CompletionResultType]::ParameterName, 'Only events at or after this time: RFC 3339 (2026-11-25T08:00:00Z) or a duration (30s, 15m, 2h, 1d) before the newest event read, or before now with --now')
            [CompletionResult]::new('--until', '--until', [CompletionResultType]::ParameterName, 'Only events at or before this time: RFC 3339 or a duration, as for --since')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format [default: table]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to color the output; `auto` colors a terminal unless NO_COLOR is set')
            [CompletionResult]::new('--strict', '--strict', [CompletionResultType]::ParameterName, 'Stop with an error at the first line that is not a JSON object (after kubectl prefixes) or is longer than --max-line-bytes')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Do not print the summary of skipped lines on stderr')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Do not print the summary of skipped lines on stderr')
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'Keep reading as the input grows, printing events as they come: standard input (say `kubectl logs -f`) until it closes, files as `tail -F` does (from their end, or from --since; reopened when rotated, truncated or deleted and recreated, said on stderr) until Ctrl-C')
            [CompletionResult]::new('--follow', '--follow', [CompletionResultType]::ParameterName, 'Keep reading as the input grows, printing events as they come: standard input (say `kubectl logs -f`) until it closes, files as `tail -F` does (from their end, or from --since; reopened when rotated, truncated or deleted and recreated, said on stderr) until Ctrl-C')
            [CompletionResult]::new('--keep', '--keep', [CompletionResultType]::ParameterName, 'With --follow: keep following after the trace reaches a terminal status')
            [CompletionResult]::new('--now', '--now', [CompletionResultType]::ParameterName, 'Count --since/--until durations back from the current clock, not from the newest event')
            [CompletionResult]::new('--all', '--all', [CompletionResultType]::ParameterName, 'Show node_start rows in the timeline too (by default folded into the attempt they began)')
            [CompletionResult]::new('--full-scan', '--full-scan', [CompletionResultType]::ParameterName, 'Parse every line: learn the flow graph (and the next node''s queue depth) from the whole input instead of from each input''s first 20,000 lines and the trace''s own lines (slower)')
            [CompletionResult]::new('--no-redact', '--no-redact', [CompletionResultType]::ParameterName, 'Show exception text whole; by default secrets in it (API keys, tokens, passwords in URLs, long hex/base64 strings) are masked')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'flowtrace;classify' {
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'The event store (PenguiFlow''s flow_events table), read-only, never modified: a SQLite file, or a PostgreSQL URL postgres://user@host:5432/db (PG* variables and ~/.pgpass give what it leaves out; sslmode=require encrypts)')
            [CompletionResult]::new('--table', '--table', [CompletionResultType]::ParameterName, 'The events table of --store (PostgreSQL: schema.table allowed)')
            [CompletionResult]::new('--store-timeout', '--store-timeout', [CompletionResultType]::ParameterName, 'With a PostgreSQL --store: the longest one query may run before it is cancelled')
            [CompletionResult]::new('-j', '-j', [CompletionResultType]::ParameterName, 'Threads for each stage that runs in parallel, 1 to 64: decoding each log input [default: one per core but one], and following traces for classify, traces, triage, graph and report [default: none beside the ordering thread on up to three cores, a quarter of the cores (2 to 8) beyond]; 1 leaves cores free. Any -j gives the same answer')
            [CompletionResult]::new('--threads', '--threads', [CompletionResultType]::ParameterName, 'Threads for each stage that runs in parallel, 1 to 64: decoding each log input [default: one per core but one], and following traces for classify, traces, triage, graph and report [default: none beside the ordering thread on up to three cores, a quarter of the cores (2 to 8) beyond]; 1 leaves cores free. Any -j gives the same answer')
            [CompletionResult]::new('--max-line-bytes', '--max-line-bytes', [CompletionResultType]::ParameterName, 'Longest line read, in bytes: longer ones are skipped and counted (memory stays bounded on a file without line ends or a decompression bomb)')
            [CompletionResult]::new('--trace', '--trace', [CompletionResultType]::ParameterName, 'Only this trace id (repeat or comma-separate for several)')
            [CompletionResult]::new('--tenant', '--tenant', [CompletionResultType]::ParameterName, 'Only events of this tenant (taken from the line, or propagated within its trace)')
            [CompletionResult]::new('--node', '--node', [CompletionResultType]::ParameterName, 'Only events of this node name')
            [CompletionResult]::new('--pod', '--pod', [CompletionResultType]::ParameterName, 'Only events of this pod (from `kubectl logs --prefix`: `[pod/NAME/CONTAINER]`)')
            [CompletionResult]::new('--kind', '--kind', [CompletionResultType]::ParameterName, 'Only events of this kind, e.g. node_failed (repeat or comma-separate for several)')
            [CompletionResult]::new('--since', '--since', [CompletionResultType]::ParameterName, 'Only events at or after this time: RFC 3339 (2026-11-25T08:00:00Z) or a duration (30s, 15m, 2h, 1d) before the newest event read, or before now with --now')
            [CompletionResult]::new('--until', '--until', [CompletionResultType]::ParameterName, 'Only events at or before this time: RFC 3339 or a duration, as for --since')
            [CompletionResult]::new('--by', '--by', [CompletionResultType]::ParameterName, 'Group failures by node, tenant, kind, pod, or over time (second, minute, hour); two comma-separated give one row per pair, e.g. `--by tenant,node`')
            [CompletionResult]::new('--fail-on', '--fail-on', [CompletionResultType]::ParameterName, 'Exit with status 3 when any of these categories occurred (comma-separated)')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format [default: table]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to color the output; `auto` colors a terminal unless NO_COLOR is set')
            [CompletionResult]::new('--strict', '--strict', [CompletionResultType]::ParameterName, 'Stop with an error at the first line that is not a JSON object (after kubectl prefixes) or is longer than --max-line-bytes')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Do not print the summary of skipped lines on stderr')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Do not print the summary of skipped lines on stderr')
            [CompletionResult]::new('--now', '--now', [CompletionResultType]::ParameterName, 'Count --since/--until durations back from the current clock, not from the newest event')
            [CompletionResult]::new('--messages', '--messages', [CompletionResultType]::ParameterName, 'Show one example message (masked) per exception type')
            [CompletionResult]::new('--no-redact', '--no-redact', [CompletionResultType]::ParameterName, 'Show exception text whole; by default secrets in it (API keys, tokens, passwords in URLs, long hex/base64 strings) are masked')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'flowtrace;saturation' {
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'The event store (PenguiFlow''s flow_events table), read-only, never modified: a SQLite file, or a PostgreSQL URL postgres://user@host:5432/db (PG* variables and ~/.pgpass give what it leaves out; sslmode=require encrypts)')
            [CompletionResult]::new('--table', '--table', [CompletionResultType]::ParameterName, 'The events table of --store (PostgreSQL: schema.table allowed)')
            [CompletionResult]::new('--store-timeout', '--store-timeout', [CompletionResultType]::ParameterName, 'With a PostgreSQL --store: the longest one query may run before it is cancelled')
            [CompletionResult]::new('-j', '-j', [CompletionResultType]::ParameterName, 'Threads for each stage that runs in parallel, 1 to 64: decoding each log input [default: one per core but one], and following traces for classify, traces, triage, graph and report [default: none beside the ordering thread on up to three cores, a quarter of the cores (2 to 8) beyond]; 1 leaves cores free. Any -j gives the same answer')
            [CompletionResult]::new('--threads', '--threads', [CompletionResultType]::ParameterName, 'Threads for each stage that runs in parallel, 1 to 64: decoding each log input [default: one per core but one], and following traces for classify, traces, triage, graph and report [default: none beside the ordering thread on up to three cores, a quarter of the cores (2 to 8) beyond]; 1 leaves cores free. Any -j gives the same answer')
            [CompletionResult]::new('--max-line-bytes', '--max-line-bytes', [CompletionResultType]::ParameterName, 'Longest line read, in bytes: longer ones are skipped and counted (memory stays bounded on a file without line ends or a decompression bomb)')
            [CompletionResult]::new('--window', '--window', [CompletionResultType]::ParameterName, 'With --watch: the span of log time each report covers')
            [CompletionResult]::new('--interval', '--interval', [CompletionResultType]::ParameterName, 'With --watch: how often the report is recomputed')
            [CompletionResult]::new('--reorder-window', '--reorder-window', [CompletionResultType]::ParameterName, 'With --watch: how long an event is held so that an earlier one from another input or pod can go first')
            [CompletionResult]::new('--idle', '--idle', [CompletionResultType]::ParameterName, 'With --watch: say so once on stderr after this long without an event (`0`: never)')
            [CompletionResult]::new('--trace', '--trace', [CompletionResultType]::ParameterName, 'Only this trace id (repeat or comma-separate for several)')
            [CompletionResult]::new('--tenant', '--tenant', [CompletionResultType]::ParameterName, 'Only events of this tenant (taken from the line, or propagated within its trace)')
            [CompletionResult]::new('--node', '--node', [CompletionResultType]::ParameterName, 'Only events of this node name')
            [CompletionResult]::new('--pod', '--pod', [CompletionResultType]::ParameterName, 'Only events of this pod (from `kubectl logs --prefix`: `[pod/NAME/CONTAINER]`)')
            [CompletionResult]::new('--kind', '--kind', [CompletionResultType]::ParameterName, 'Only events of this kind, e.g. node_failed (repeat or comma-separate for several)')
            [CompletionResult]::new('--since', '--since', [CompletionResultType]::ParameterName, 'Only events at or after this time: RFC 3339 (2026-11-25T08:00:00Z) or a duration (30s, 15m, 2h, 1d) before the newest event read, or before now with --now')
            [CompletionResult]::new('--until', '--until', [CompletionResultType]::ParameterName, 'Only events at or before this time: RFC 3339 or a duration, as for --since')
            [CompletionResult]::new('--bucket', '--bucket', [CompletionResultType]::ParameterName, 'Bucket width of the time series, e.g. 10s, 1m, 5m [default: about 40 buckets]')
            [CompletionResult]::new('--threshold', '--threshold', [CompletionResultType]::ParameterName, 'Share of a bounded queue''s capacity above which a node is saturated (unbounded queues: twice their own p95)')
            [CompletionResult]::new('--sustain', '--sustain', [CompletionResultType]::ParameterName, 'Consecutive buckets a condition must last to be reported')
            [CompletionResult]::new('--retry-rate', '--retry-rate', [CompletionResultType]::ParameterName, 'Retry rate (node_retry / node_success) above which a node has a retry storm')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format [default: table]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to color the output; `auto` colors a terminal unless NO_COLOR is set')
            [CompletionResult]::new('--strict', '--strict', [CompletionResultType]::ParameterName, 'Stop with an error at the first line that is not a JSON object (after kubectl prefixes) or is longer than --max-line-bytes')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Do not print the summary of skipped lines on stderr')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Do not print the summary of skipped lines on stderr')
            [CompletionResult]::new('--watch', '--watch', [CompletionResultType]::ParameterName, 'A live view: follow the input (stdin, or files as `tail -F` does) and redraw the report over the last --window of events every --interval, like top; piped, write one JSON report per interval instead (JSON lines). Ctrl-C ends')
            [CompletionResult]::new('--now', '--now', [CompletionResultType]::ParameterName, 'Count --since/--until durations back from the current clock, not from the newest event')
            [CompletionResult]::new('--no-redact', '--no-redact', [CompletionResultType]::ParameterName, 'Show exception text whole; by default secrets in it (API keys, tokens, passwords in URLs, long hex/base64 strings) are masked')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'flowtrace;traces' {
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'The event store (PenguiFlow''s flow_events table), read-only, never modified: a SQLite file, or a PostgreSQL URL postgres://user@host:5432/db (PG* variables and ~/.pgpass give what it leaves out; sslmode=require encrypts)')
            [CompletionResult]::new('--table', '--table', [CompletionResultType]::ParameterName, 'The events table of --store (PostgreSQL: schema.table allowed)')
            [CompletionResult]::new('--store-timeout', '--store-timeout', [CompletionResultType]::ParameterName, 'With a PostgreSQL --store: the longest one query may run before it is cancelled')
            [CompletionResult]::new('-j', '-j', [CompletionResultType]::ParameterName, 'Threads for each stage that runs in parallel, 1 to 64: decoding each log input [default: one per core but one], and following traces for classify, traces, triage, graph and report [default: none beside the ordering thread on up to three cores, a quarter of the cores (2 to 8) beyond]; 1 leaves cores free. Any -j gives the same answer')
            [CompletionResult]::new('--threads', '--threads', [CompletionResultType]::ParameterName, 'Threads for each stage that runs in parallel, 1 to 64: decoding each log input [default: one per core but one], and following traces for classify, traces, triage, graph and report [default: none beside the ordering thread on up to three cores, a quarter of the cores (2 to 8) beyond]; 1 leaves cores free. Any -j gives the same answer')
            [CompletionResult]::new('--max-line-bytes', '--max-line-bytes', [CompletionResultType]::ParameterName, 'Longest line read, in bytes: longer ones are skipped and counted (memory stays bounded on a file without line ends or a decompression bomb)')
            [CompletionResult]::new('--trace', '--trace', [CompletionResultType]::ParameterName, 'Only this trace id (repeat or comma-separate for several)')
            [CompletionResult]::new('--tenant', '--tenant', [CompletionResultType]::ParameterName, 'Only events of this tenant (taken from the line, or propagated within its trace)')
            [CompletionResult]::new('--node', '--node', [CompletionResultType]::ParameterName, 'Only events of this node name')
            [CompletionResult]::new('--pod', '--pod', [CompletionResultType]::ParameterName, 'Only events of this pod (from `kubectl logs --prefix`: `[pod/NAME/CONTAINER]`)')
            [CompletionResult]::new('--kind', '--kind', [CompletionResultType]::ParameterName, 'Only events of this kind, e.g. node_failed (repeat or comma-separate for several)')
            [CompletionResult]::new('--since', '--since', [CompletionResultType]::ParameterName, 'Only events at or after this time: RFC 3339 (2026-11-25T08:00:00Z) or a duration (30s, 15m, 2h, 1d) before the newest event read, or before now with --now')
            [CompletionResult]::new('--until', '--until', [CompletionResultType]::ParameterName, 'Only events at or before this time: RFC 3339 or a duration, as for --since')
            [CompletionResult]::new('--status', '--status', [CompletionResultType]::ParameterName, 'Only traces with this status (comma-separated): succeeded, failed, cancelled, deadline_skipped, in_flight')
            [CompletionResult]::new('--category', '--category', [CompletionResultType]::ParameterName, 'Only traces whose failure category is one of these (comma-separated)')
            [CompletionResult]::new('--sort', '--sort', [CompletionResultType]::ParameterName, 'Order of the rows')
            [CompletionResult]::new('--limit', '--limit', [CompletionResultType]::ParameterName, 'Show at most N rows [default: 50 on a terminal, all when piped]')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format [default: table on a terminal, json when piped]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to color the output; `auto` colors a terminal unless NO_COLOR is set')
            [CompletionResult]::new('--strict', '--strict', [CompletionResultType]::ParameterName, 'Stop with an error at the first line that is not a JSON object (after kubectl prefixes) or is longer than --max-line-bytes')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Do not print the summary of skipped lines on stderr')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Do not print the summary of skipped lines on stderr')
            [CompletionResult]::new('--now', '--now', [CompletionResultType]::ParameterName, 'Count --since/--until durations back from the current clock, not from the newest event')
            [CompletionResult]::new('--no-redact', '--no-redact', [CompletionResultType]::ParameterName, 'Show exception text whole; by default secrets in it (API keys, tokens, passwords in URLs, long hex/base64 strings) are masked')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'flowtrace;graph' {
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'The event store (PenguiFlow''s flow_events table), read-only, never modified: a SQLite file, or a PostgreSQL URL postgres://user@host:5432/db (PG* variables and ~/.pgpass give what it leaves out; sslmode=require encrypts)')
            [CompletionResult]::new('--table', '--table', [CompletionResultType]::ParameterName, 'The events table of --store (PostgreSQL: schema.table allowed)')
            [CompletionResult]::new('--store-timeout', '--store-timeout', [CompletionResultType]::ParameterName, 'With a PostgreSQL --store: the longest one query may run before it is cancelled')
            [CompletionResult]::new('-j', '-j', [CompletionResultType]::ParameterName, 'Threads for each stage that runs in parallel, 1 to 64: decoding each log input [default: one per core but one], and following traces for classify, traces, triage, graph and report [default: none beside the ordering thread on up to three cores, a quarter of the cores (2 to 8) beyond]; 1 leaves cores free. Any -j gives the same answer')
            [CompletionResult]::new('--threads', '--threads', [CompletionResultType]::ParameterName, 'Threads for each stage that runs in parallel, 1 to 64: decoding each log input [default: one per core but one], and following traces for classify, traces, triage, graph and report [default: none beside the ordering thread on up to three cores, a quarter of the cores (2 to 8) beyond]; 1 leaves cores free. Any -j gives the same answer')
            [CompletionResult]::new('--max-line-bytes', '--max-line-bytes', [CompletionResultType]::ParameterName, 'Longest line read, in bytes: longer ones are skipped and counted (memory stays bounded on a file without line ends or a decompression bomb)')
            [CompletionResult]::new('--trace', '--trace', [CompletionResultType]::ParameterName, 'Only this trace id (repeat or comma-separate for several)')
            [CompletionResult]::new('--tenant', '--tenant', [CompletionResultType]::ParameterName, 'Only events of this tenant (taken from the line, or propagated within its trace)')
            [CompletionResult]::new('--node', '--node', [CompletionResultType]::ParameterName, 'Only events of this node name')
            [CompletionResult]::new('--pod', '--pod', [CompletionResultType]::ParameterName, 'Only events of this pod (from `kubectl logs --prefix`: `[pod/NAME/CONTAINER]`)')
            [CompletionResult]::new('--kind', '--kind', [CompletionResultType]::ParameterName, 'Only events of this kind, e.g. node_failed (repeat or comma-separate for several)')
            [CompletionResult]::new('--since', '--since', [CompletionResultType]::ParameterName, 'Only events at or after this time: RFC 3339 (2026-11-25T08:00:00Z) or a duration (30s, 15m, 2h, 1d) before the newest event read, or before now with --now')
            [CompletionResult]::new('--until', '--until', [CompletionResultType]::ParameterName, 'Only events at or before this time: RFC 3339 or a duration, as for --since')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to color the output; `auto` colors a terminal unless NO_COLOR is set')
            [CompletionResult]::new('--strict', '--strict', [CompletionResultType]::ParameterName, 'Stop with an error at the first line that is not a JSON object (after kubectl prefixes) or is longer than --max-line-bytes')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Do not print the summary of skipped lines on stderr')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Do not print the summary of skipped lines on stderr')
            [CompletionResult]::new('--now', '--now', [CompletionResultType]::ParameterName, 'Count --since/--until durations back from the current clock, not from the newest event')
            [CompletionResult]::new('--no-redact', '--no-redact', [CompletionResultType]::ParameterName, 'Show exception text whole; by default secrets in it (API keys, tokens, passwords in URLs, long hex/base64 strings) are masked')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'flowtrace;triage' {
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'The event store (PenguiFlow''s flow_events table), read-only, never modified: a SQLite file, or a PostgreSQL URL postgres://user@host:5432/db (PG* variables and ~/.pgpass give what it leaves out; sslmode=require encrypts)')
            [CompletionResult]::new('--table', '--table', [CompletionResultType]::ParameterName, 'The events table of --store (PostgreSQL: schema.table allowed)')
            [CompletionResult]::new('--store-timeout', '--store-timeout', [CompletionResultType]::ParameterName, 'With a PostgreSQL --store: the longest one query may run before it is cancelled')
            [CompletionResult]::new('-j', '-j', [CompletionResultType]::ParameterName, 'Threads for each stage that runs in parallel, 1 to 64: decoding each log input [default: one per core but one], and following traces for classify, traces, triage, graph and report [default: none beside the ordering thread on up to three cores, a quarter of the cores (2 to 8) beyond]; 1 leaves cores free. Any -j gives the same answer')
            [CompletionResult]::new('--threads', '--threads', [CompletionResultType]::ParameterName, 'Threads for each stage that runs in parallel, 1 to 64: decoding each log input [default: one per core but one], and following traces for classify, traces, triage, graph and report [default: none beside the ordering thread on up to three cores, a quarter of the cores (2 to 8) beyond]; 1 leaves cores free. Any -j gives the same answer')
            [CompletionResult]::new('--max-line-bytes', '--max-line-bytes', [CompletionResultType]::ParameterName, 'Longest line read, in bytes: longer ones are skipped and counted (memory stays bounded on a file without line ends or a decompression bomb)')
            [CompletionResult]::new('--window', '--window', [CompletionResultType]::ParameterName, 'With --watch: the span of log time each report covers')
            [CompletionResult]::new('--interval', '--interval', [CompletionResultType]::ParameterName, 'With --watch: how often the report is recomputed')
            [CompletionResult]::new('--reorder-window', '--reorder-window', [CompletionResultType]::ParameterName, 'With --watch: how long an event is held so that an earlier one from another input or pod can go first')
            [CompletionResult]::new('--idle', '--idle', [CompletionResultType]::ParameterName, 'With --watch: say so once on stderr after this long without an event (`0`: never)')
            [CompletionResult]::new('--trace', '--trace', [CompletionResultType]::ParameterName, 'Only this trace id (repeat or comma-separate for several)')
            [CompletionResult]::new('--tenant', '--tenant', [CompletionResultType]::ParameterName, 'Only events of this tenant (taken from the line, or propagated within its trace)')
            [CompletionResult]::new('--node', '--node', [CompletionResultType]::ParameterName, 'Only events of this node name')
            [CompletionResult]::new('--pod', '--pod', [CompletionResultType]::ParameterName, 'Only events of this pod (from `kubectl logs --prefix`: `[pod/NAME/CONTAINER]`)')
            [CompletionResult]::new('--kind', '--kind', [CompletionResultType]::ParameterName, 'Only events of this kind, e.g. node_failed (repeat or comma-separate for several)')
            [CompletionResult]::new('--since', '--since', [CompletionResultType]::ParameterName, 'Only events at or after this time: RFC 3339 (2026-11-25T08:00:00Z) or a duration (30s, 15m, 2h, 1d) before the newest event read, or before now with --now')
            [CompletionResult]::new('--until', '--until', [CompletionResultType]::ParameterName, 'Only events at or before this time: RFC 3339 or a duration, as for --since')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format [default: table]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to color the output; `auto` colors a terminal unless NO_COLOR is set')
            [CompletionResult]::new('--strict', '--strict', [CompletionResultType]::ParameterName, 'Stop with an error at the first line that is not a JSON object (after kubectl prefixes) or is longer than --max-line-bytes')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Do not print the summary of skipped lines on stderr')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Do not print the summary of skipped lines on stderr')
            [CompletionResult]::new('--watch', '--watch', [CompletionResultType]::ParameterName, 'A live view: follow the input (stdin, or files as `tail -F` does) and redraw the report over the last --window of events every --interval, like top; piped, write one JSON report per interval instead (JSON lines). Ctrl-C ends')
            [CompletionResult]::new('--now', '--now', [CompletionResultType]::ParameterName, 'Count --since/--until durations back from the current clock, not from the newest event')
            [CompletionResult]::new('--no-redact', '--no-redact', [CompletionResultType]::ParameterName, 'Show exception text whole; by default secrets in it (API keys, tokens, passwords in URLs, long hex/base64 strings) are masked')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'flowtrace;report' {
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'The event store (PenguiFlow''s flow_events table), read-only, never modified: a SQLite file, or a PostgreSQL URL postgres://user@host:5432/db (PG* variables and ~/.pgpass give what it leaves out; sslmode=require encrypts)')
            [CompletionResult]::new('--table', '--table', [CompletionResultType]::ParameterName, 'The events table of --store (PostgreSQL: schema.table allowed)')
            [CompletionResult]::new('--store-timeout', '--store-timeout', [CompletionResultType]::ParameterName, 'With a PostgreSQL --store: the longest one query may run before it is cancelled')
            [CompletionResult]::new('-j', '-j', [CompletionResultType]::ParameterName, 'Threads for each stage that runs in parallel, 1 to 64: decoding each log input [default: one per core but one], and following traces for classify, traces, triage, graph and report [default: none beside the ordering thread on up to three cores, a quarter of the cores (2 to 8) beyond]; 1 leaves cores free. Any -j gives the same answer')
            [CompletionResult]::new('--threads', '--threads', [CompletionResultType]::ParameterName, 'Threads for each stage that runs in parallel, 1 to 64: decoding each log input [default: one per core but one], and following traces for classify, traces, triage, graph and report [default: none beside the ordering thread on up to three cores, a quarter of the cores (2 to 8) beyond]; 1 leaves cores free. Any -j gives the same answer')
            [CompletionResult]::new('--max-line-bytes', '--max-line-bytes', [CompletionResultType]::ParameterName, 'Longest line read, in bytes: longer ones are skipped and counted (memory stays bounded on a file without line ends or a decompression bomb)')
            [CompletionResult]::new('--trace', '--trace', [CompletionResultType]::ParameterName, 'Only this trace id (repeat or comma-separate for several)')
            [CompletionResult]::new('--tenant', '--tenant', [CompletionResultType]::ParameterName, 'Only events of this tenant (taken from the line, or propagated within its trace)')
            [CompletionResult]::new('--node', '--node', [CompletionResultType]::ParameterName, 'Only events of this node name')
            [CompletionResult]::new('--pod', '--pod', [CompletionResultType]::ParameterName, 'Only events of this pod (from `kubectl logs --prefix`: `[pod/NAME/CONTAINER]`)')
            [CompletionResult]::new('--kind', '--kind', [CompletionResultType]::ParameterName, 'Only events of this kind, e.g. node_failed (repeat or comma-separate for several)')
            [CompletionResult]::new('--since', '--since', [CompletionResultType]::ParameterName, 'Only events at or after this time: RFC 3339 (2026-11-25T08:00:00Z) or a duration (30s, 15m, 2h, 1d) before the newest event read, or before now with --now')
            [CompletionResult]::new('--until', '--until', [CompletionResultType]::ParameterName, 'Only events at or before this time: RFC 3339 or a duration, as for --since')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'The HTML file to write (replaced if it exists); `-` writes to standard output')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'The HTML file to write (replaced if it exists); `-` writes to standard output')
            [CompletionResult]::new('--strict', '--strict', [CompletionResultType]::ParameterName, 'Stop with an error at the first line that is not a JSON object (after kubectl prefixes) or is longer than --max-line-bytes')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Do not print the summary of skipped lines on stderr')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Do not print the summary of skipped lines on stderr')
            [CompletionResult]::new('--now', '--now', [CompletionResultType]::ParameterName, 'Count --since/--until durations back from the current clock, not from the newest event')
            [CompletionResult]::new('--full-scan', '--full-scan', [CompletionResultType]::ParameterName, 'With one --trace: parse every line, as find --full-scan does')
            [CompletionResult]::new('--no-redact', '--no-redact', [CompletionResultType]::ParameterName, 'Show exception text whole; by default secrets in it (API keys, tokens, passwords in URLs, long hex/base64 strings) are masked')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'flowtrace;import' {
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'The store to write (created with the flow_events schema if missing): a SQLite file, or a PostgreSQL URL postgres://user@host:5432/db (the table and its indexes created there)')
            [CompletionResult]::new('--table', '--table', [CompletionResultType]::ParameterName, 'The events table of the store')
            [CompletionResult]::new('-j', '-j', [CompletionResultType]::ParameterName, 'Threads decoding each log input, 1 to 64 [default: one per core but one]')
            [CompletionResult]::new('--threads', '--threads', [CompletionResultType]::ParameterName, 'Threads decoding each log input, 1 to 64 [default: one per core but one]')
            [CompletionResult]::new('--max-line-bytes', '--max-line-bytes', [CompletionResultType]::ParameterName, 'Longest line read, in bytes: longer ones are skipped and counted')
            [CompletionResult]::new('--trace', '--trace', [CompletionResultType]::ParameterName, 'Only this trace id (repeat or comma-separate for several)')
            [CompletionResult]::new('--tenant', '--tenant', [CompletionResultType]::ParameterName, 'Only events of this tenant (taken from the line, or propagated within its trace)')
            [CompletionResult]::new('--node', '--node', [CompletionResultType]::ParameterName, 'Only events of this node name')
            [CompletionResult]::new('--pod', '--pod', [CompletionResultType]::ParameterName, 'Only events of this pod (from `kubectl logs --prefix`: `[pod/NAME/CONTAINER]`)')
            [CompletionResult]::new('--kind', '--kind', [CompletionResultType]::ParameterName, 'Only events of this kind, e.g. node_failed (repeat or comma-separate for several)')
            [CompletionResult]::new('--since', '--since', [CompletionResultType]::ParameterName, 'Only events at or after this time: RFC 3339 (2026-11-25T08:00:00Z) or a duration (30s, 15m, 2h, 1d) before the newest event read, or before now with --now')
            [CompletionResult]::new('--until', '--until', [CompletionResultType]::ParameterName, 'Only events at or before this time: RFC 3339 or a duration, as for --since')
            [CompletionResult]::new('--strict', '--strict', [CompletionResultType]::ParameterName, 'Stop with an error at the first line that is not a JSON object (or too long to read)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Do not print the summary on stderr')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Do not print the summary on stderr')
            [CompletionResult]::new('--now', '--now', [CompletionResultType]::ParameterName, 'Count --since/--until durations back from the current clock, not from the newest event')
            [CompletionResult]::new('--no-redact', '--no-redact', [CompletionResultType]::ParameterName, 'Store exception text whole; by default secrets in it are masked before writing')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'flowtrace;lint' {
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'The event store (PenguiFlow''s flow_events table), read-only, never modified: a SQLite file, or a PostgreSQL URL postgres://user@host:5432/db (PG* variables and ~/.pgpass give what it leaves out; sslmode=require encrypts)')
            [CompletionResult]::new('--table', '--table', [CompletionResultType]::ParameterName, 'The events table of --store (PostgreSQL: schema.table allowed)')
            [CompletionResult]::new('--store-timeout', '--store-timeout', [CompletionResultType]::ParameterName, 'With a PostgreSQL --store: the longest one query may run before it is cancelled')
            [CompletionResult]::new('-j', '-j', [CompletionResultType]::ParameterName, 'Threads for each stage that runs in parallel, 1 to 64: decoding each log input [default: one per core but one], and following traces for classify, traces, triage, graph and report [default: none beside the ordering thread on up to three cores, a quarter of the cores (2 to 8) beyond]; 1 leaves cores free. Any -j gives the same answer')
            [CompletionResult]::new('--threads', '--threads', [CompletionResultType]::ParameterName, 'Threads for each stage that runs in parallel, 1 to 64: decoding each log input [default: one per core but one], and following traces for classify, traces, triage, graph and report [default: none beside the ordering thread on up to three cores, a quarter of the cores (2 to 8) beyond]; 1 leaves cores free. Any -j gives the same answer')
            [CompletionResult]::new('--max-line-bytes', '--max-line-bytes', [CompletionResultType]::ParameterName, 'Longest line read, in bytes: longer ones are skipped and counted (memory stays bounded on a file without line ends or a decompression bomb)')
            [CompletionResult]::new('--trace', '--trace', [CompletionResultType]::ParameterName, 'Only this trace id (repeat or comma-separate for several)')
            [CompletionResult]::new('--tenant', '--tenant', [CompletionResultType]::ParameterName, 'Only events of this tenant (taken from the line, or propagated within its trace)')
            [CompletionResult]::new('--node', '--node', [CompletionResultType]::ParameterName, 'Only events of this node name')
            [CompletionResult]::new('--pod', '--pod', [CompletionResultType]::ParameterName, 'Only events of this pod (from `kubectl logs --prefix`: `[pod/NAME/CONTAINER]`)')
            [CompletionResult]::new('--kind', '--kind', [CompletionResultType]::ParameterName, 'Only events of this kind, e.g. node_failed (repeat or comma-separate for several)')
            [CompletionResult]::new('--since', '--since', [CompletionResultType]::ParameterName, 'Only events at or after this time: RFC 3339 (2026-11-25T08:00:00Z) or a duration (30s, 15m, 2h, 1d) before the newest event read, or before now with --now')
            [CompletionResult]::new('--until', '--until', [CompletionResultType]::ParameterName, 'Only events at or before this time: RFC 3339 or a duration, as for --since')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format [default: table]')
            [CompletionResult]::new('--fail-on-severity', '--fail-on-severity', [CompletionResultType]::ParameterName, 'Exit with status 4 when a finding of this severity or above occurred')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to color the output; `auto` colors a terminal unless NO_COLOR is set')
            [CompletionResult]::new('--strict', '--strict', [CompletionResultType]::ParameterName, 'Stop with an error at the first line that is not a JSON object (after kubectl prefixes) or is longer than --max-line-bytes')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Do not print the summary of skipped lines on stderr')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Do not print the summary of skipped lines on stderr')
            [CompletionResult]::new('--now', '--now', [CompletionResultType]::ParameterName, 'Count --since/--until durations back from the current clock, not from the newest event')
            [CompletionResult]::new('--no-redact', '--no-redact', [CompletionResultType]::ParameterName, 'Show exception text whole; by default secrets in it (API keys, tokens, passwords in URLs, long hex/base64 strings) are masked')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'flowtrace;metrics' {
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'The event store (PenguiFlow''s flow_events table), read-only, never modified: a SQLite file, or a PostgreSQL URL postgres://user@host:5432/db (PG* variables and ~/.pgpass give what it leaves out; sslmode=require encrypts)')
            [CompletionResult]::new('--table', '--table', [CompletionResultType]::ParameterName, 'The events table of --store (PostgreSQL: schema.table allowed)')
            [CompletionResult]::new('--store-timeout', '--store-timeout', [CompletionResultType]::ParameterName, 'With a PostgreSQL --store: the longest one query may run before it is cancelled')
            [CompletionResult]::new('-j', '-j', [CompletionResultType]::ParameterName, 'Threads for each stage that runs in parallel, 1 to 64: decoding each log input [default: one per core but one], and following traces for classify, traces, triage, graph and report [default: none beside the ordering thread on up to three cores, a quarter of the cores (2 to 8) beyond]; 1 leaves cores free. Any -j gives the same answer')
            [CompletionResult]::new('--threads', '--threads', [CompletionResultType]::ParameterName, 'Threads for each stage that runs in parallel, 1 to 64: decoding each log input [default: one per core but one], and following traces for classify, traces, triage, graph and report [default: none beside the ordering thread on up to three cores, a quarter of the cores (2 to 8) beyond]; 1 leaves cores free. Any -j gives the same answer')
            [CompletionResult]::new('--max-line-bytes', '--max-line-bytes', [CompletionResultType]::ParameterName, 'Longest line read, in bytes: longer ones are skipped and counted (memory stays bounded on a file without line ends or a decompression bomb)')
            [CompletionResult]::new('--trace', '--trace', [CompletionResultType]::ParameterName, 'Only this trace id (repeat or comma-separate for several)')
            [CompletionResult]::new('--tenant', '--tenant', [CompletionResultType]::ParameterName, 'Only events of this tenant (taken from the line, or propagated within its trace)')
            [CompletionResult]::new('--node', '--node', [CompletionResultType]::ParameterName, 'Only events of this node name')
            [CompletionResult]::new('--pod', '--pod', [CompletionResultType]::ParameterName, 'Only events of this pod (from `kubectl logs --prefix`: `[pod/NAME/CONTAINER]`)')
            [CompletionResult]::new('--kind', '--kind', [CompletionResultType]::ParameterName, 'Only events of this kind, e.g. node_failed (repeat or comma-separate for several)')
            [CompletionResult]::new('--since', '--since', [CompletionResultType]::ParameterName, 'Only events at or after this time: RFC 3339 (2026-11-25T08:00:00Z) or a duration (30s, 15m, 2h, 1d) before the newest event read, or before now with --now')
            [CompletionResult]::new('--until', '--until', [CompletionResultType]::ParameterName, 'Only events at or before this time: RFC 3339 or a duration, as for --since')
            [CompletionResult]::new('--step', '--step', [CompletionResultType]::ParameterName, 'One sample per series per step')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Where to write (`-`: standard output)')
            [CompletionResult]::new('--out', '--out', [CompletionResultType]::ParameterName, 'Where to write (`-`: standard output)')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'openmetrics: the metrics; prometheus-rules: starter alert rules over them (no input read)')
            [CompletionResult]::new('--strict', '--strict', [CompletionResultType]::ParameterName, 'Stop with an error at the first line that is not a JSON object (after kubectl prefixes) or is longer than --max-line-bytes')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Do not print the summary of skipped lines on stderr')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Do not print the summary of skipped lines on stderr')
            [CompletionResult]::new('--now', '--now', [CompletionResultType]::ParameterName, 'Count --since/--until durations back from the current clock, not from the newest event')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'flowtrace;completions' {
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'flowtrace;help' {
            [CompletionResult]::new('events', 'events', [CompletionResultType]::ParameterValue, 'Print the selected events, normalized, in time order')
            [CompletionResult]::new('find', 'find', [CompletionResultType]::ParameterValue, 'Where did this trace stop, and why: timeline, last success, next node, what to do')
            [CompletionResult]::new('classify', 'classify', [CompletionResultType]::ParameterValue, 'What is failing across the flow: failures by category, node, tenant or time, top exceptions, and what to do about each')
            [CompletionResult]::new('saturation', 'saturation', [CompletionResultType]::ParameterValue, 'Is the flow stuck: queue depth over time, latency percentiles, retries, the bottleneck')
            [CompletionResult]::new('traces', 'traces', [CompletionResultType]::ParameterValue, 'One row per trace: status, category, duration, last node; find the traces worth opening')
            [CompletionResult]::new('graph', 'graph', [CompletionResultType]::ParameterValue, 'The flow''s topology as the telemetry shows it: nodes, edges with trace counts, failures')
            [CompletionResult]::new('triage', 'triage', [CompletionResultType]::ParameterValue, 'The whole incident on one screen: size, worst traces, saturation, control plane, cross-tenant traces and one checklist; the command to run first')
            [CompletionResult]::new('report', 'report', [CompletionResultType]::ParameterValue, 'The incident report as one self-contained HTML page: triage''s verdicts and checklist, charts, the flow graph and the worst traces'' timelines; for the incident ticket')
            [CompletionResult]::new('import', 'import', [CompletionResultType]::ParameterValue, 'Write the events of logs into an event store, SQLite or PostgreSQL (PenguiFlow''s flow_events schema), to archive an incident once and query it in milliseconds afterwards')
            [CompletionResult]::new('lint', 'lint', [CompletionResultType]::ParameterValue, 'Telemetry defects: what makes incidents undebuggable, costly, leaky or lossy, with locations and the fix')
            [CompletionResult]::new('metrics', 'metrics', [CompletionResultType]::ParameterValue, 'Dashboards after the fact: the metrics PenguiFlow''s guidance recommends, derived from the events, as OpenMetrics that `promtool tsdb create-blocks-from openmetrics` loads')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print a shell completion script (bash, zsh, fish, powershell, elvish)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'flowtrace;help;events' {
            break
        }
        'flowtrace;help;find' {
            break
        }
        'flowtrace;help;classify' {
            break
        }
        'flowtrace;help;saturation' {
            break
        }
        'flowtrace;help;traces' {
            break
        }
        'flowtrace;help;graph' {
            break
        }
        'flowtrace;help;triage' {
            break
        }
        'flowtrace;help;report' {
            break
        }
        'flowtrace;help;import' {
            break
        }
        'flowtrace;help;lint' {
            break
        }
        'flowtrace;help;metrics' {
            break
        }
        'flowtrace;help;completions' {
            break
        }
        'flowtrace;help;help' {
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}
