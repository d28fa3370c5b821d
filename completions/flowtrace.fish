# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_flowtrace_global_optspecs
    string join \n h/help V/version
end

function __fish_flowtrace_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_flowtrace_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_flowtrace_using_subcommand
    set -l cmd (__fish_flowtrace_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c flowtrace -n "__fish_flowtrace_needs_command" -s h -l help -d 'Print help'
complete -c flowtrace -n "__fish_flowtrace_needs_command" -s V -l version -d 'Print version'
complete -c flowtrace -n "__fish_flowtrace_needs_command" -f -a "events" -d 'Print the selected events, normalized, in time order'
complete -c flowtrace -n "__fish_flowtrace_needs_command" -f -a "find" -d 'Where did this trace stop, and why: timeline, last success, next node, what to do'
complete -c flowtrace -n "__fish_flowtrace_needs_command" -f -a "classify" -d 'What is failing across the flow: failures by category, node, tenant or time, top exceptions, and what to do about each'
complete -c flowtrace -n "__fish_flowtrace_needs_command" -f -a "saturation" -d 'Is the flow stuck: queue depth over time, latency percentiles, retries, the bottleneck'
complete -c flowtrace -n "__fish_flowtrace_needs_command" -f -a "traces" -d 'One row per trace: status, category, duration, last node; find the traces worth opening'
complete -c flowtrace -n "__fish_flowtrace_needs_command" -f -a "graph" -d 'The flow\'s topology as the telemetry shows it: nodes, edges with trace counts, failures'
complete -c flowtrace -n "__fish_flowtrace_needs_command" -f -a "triage" -d 'The whole incident on one screen: size, worst traces, saturation, control plane, cross-tenant traces and one checklist; the command to run first'
complete -c flowtrace -n "__fish_flowtrace_needs_command" -f -a "report" -d 'The incident report as one self-contained HTML page: triage\'s verdicts and checklist, charts, the flow graph and the worst traces\' timelines; for the incident ticket'
complete -c flowtrace -n "__fish_flowtrace_needs_command" -f -a "import" -d 'Write the events of logs into an event store, SQLite or PostgreSQL (PenguiFlow\'s flow_events schema), to archive an incident once and query it in milliseconds afterwards'
complete -c flowtrace -n "__fish_flowtrace_needs_command" -f -a "lint" -d 'Telemetry defects: what makes incidents undebuggable, costly, leaky or lossy, with locations and the fix'
complete -c flowtrace -n "__fish_flowtrace_needs_command" -f -a "metrics" -d 'Dashboards after the fact: the metrics PenguiFlow\'s guidance recommends, derived from the events, as OpenMetrics that `promtool tsdb create-blocks-from openmetrics` loads'
complete -c flowtrace -n "__fish_flowtrace_needs_command" -f -a "completions" -d 'Print a shell completion script (bash, zsh, fish, powershell, elvish)'
complete -c flowtrace -n "__fish_flowtrace_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c flowtrace -n "__fish_flowtrace_using_subcommand events" -l store -d 'The event store (PenguiFlow\'s flow_events table), read-only, never modified: a SQLite file, or a PostgreSQL URL postgres://user@host:5432/db (PG* variables and ~/.pgpass give what it leaves out; sslmode=require encrypts)' -r -F
complete -c flowtrace -n "__fish_flowtrace_using_subcommand events" -l table -d 'The events table of --store (PostgreSQL: schema.table allowed)' -r
complete -c flowtrace -n "__fish_flowtrace_using_subcommand events" -l store-timeout -d 'With a PostgreSQL --store: the longest one query may run before it is cancelled' -r
complete -c flowtrace -n "__fish_flowtrace_using_subcommand events" -s j -l threads -d 'Threads for each stage that runs in parallel, 1 to 64: decoding each log input [default: one per core but one], and following traces for classify, traces, triage, graph and report [default: none beside the ordering thread on up to three cores, a quarter of the cores (2 to 8) beyond]; 1 leaves cores free. Any -j gives the same answer' -r
complete -c flowtrace -n "__fish_flowtrace_using_subcommand events" -l max-line-bytes -d 'Longest line read, in bytes: longer ones are skipped and counted (memory stays bounded on a file without line ends or a decompression bomb)' -r
complete -c flowtrace -n "__fish_flowtrace_using_subcommand events" -l reorder-window -d 'With --follow: how long an event is held so that an earlier one from another input or pod can go first; one that comes later still is printed marked `late`' -r
complete -c flowtrace -n "__fish_flowtrace_using_subcommand events" -l idle -d 'With --follow: say so once on stderr after this long without an event (`0`: never)' -r
complete -c flowtrace -n "__fish_flowtrace_using_subcommand events" -l interval -d 'With --follow --store: how often the store is asked for new rows (read-only queries)' -r
complete -c flowtrace -n "__fish_flowtrace_using_subcommand events" -l trace -d 'Only this trace id (repeat or comma-separate for several)' -r
complete -c flowtrace -n "__fish_flowtrace_using_subcommand events" -l tenant -d 'Only events of this tenant (taken from the line, or propagated within its trace)' -r
complete -c flowtrace -n "__fish_flowtrace_using_subcommand events" -l node -d 'Only events of this node name' -r
complete -c flowtrace -n "__fish_flowtrace_using_subcommand events" -l pod -d 'Only events of this pod (from `kubectl logs --prefix`: `[pod/NAME/CONTAINER]`)' -r
complete -c flowtrace -n "__fish_flowtrace_using_subcommand events" -l kind -d 'Only events of this kind, e.g. node_failed (repeat or comma-separate for several)' -r
complete -c flowtrace -n "__fish_flowtrace_using_subcommand events" -l since -d 'Only events at or after this time: RFC 3339 (2026-11-25T08:00:00Z) or a duration (30s, 15m, 2h, 1d) before the newest event read, or before now with --now' -r
complete -c flowtrace -n "__fish_flowtrace_using_subcommand events" -l until -d 'Only events at or before this time: RFC 3339 or a duration, as for --since' -r
complete -c flowtrace -n "__fish_flowtrace_using_subcommand events" -l format -d 'Output format [default: table on a terminal, jsonl when piped]' -r -f -a "table\t'Aligned columns for reading'
jsonl\t'One JSON object per line'
json\t'One JSON array'
csv\t'Comma-separated values with a header row'
markdown\t'A Markdown table, for incident documents'"
complete -c flowtrace -n "__fish_flowtrace_using_subcommand events" -l color -d 'When to color the output; `auto` colors a terminal unless NO_COLOR is set' -r -f -a "auto\t''
always\t''
never\t''"
complete -c flowtrace -n "__fish_flowtrace_using_subcommand events" -l strict -d 'Stop with an error at the first line that is not a JSON object (after kubectl prefixes) or is longer than --max-line-bytes'
complete -c flowtrace -n "__fish_flowtrace_using_subcommand events" -s q -l quiet -d 'Do not print the summary of skipped lines on stderr'
complete -c flowtrace -n "__fish_flowtrace_using_subcommand events" -s f -l follow -d 'Keep reading as the input grows, printing events as they come: standard input (say `kubectl logs -f`) until it closes, files as `tail -F` does (from their end, or from --since; reopened when rotated, truncated or deleted and recreated, said on stderr) until Ctrl-C'
complete -c flowtrace -n "__fish_flowtrace_using_subcommand events" -l now -d 'Count --since/--until durations back from the current clock, not from the newest event'
complete -c flowtrace -n "__fish_flowtrace_using_subcommand events" -l no-redact -d 'Show exception text whole; by default secrets in it (API keys, tokens, passwords in URLs, long hex/base64 strings) are masked'
complete -c flowtrace -n "__fish_flowtrace_using_subcommand events" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c flowtrace -n "__fish_flowtrace_using_subcommand find" -l store -d 'The event store (PenguiFlow\'s flow_events table), read-only, never modified: a SQLite file, or a PostgreSQL URL postgres://user@host:5432/db (PG* variables and ~/.pgpass give what it leaves out; sslmode=require encrypts)' -r -F
complete -c flowtrace -n "__fish_flowtrace_using_subcommand find" -l table -d 'The events table of --store (PostgreSQL: schema.table allowed)' -r
complete -c flowtrace -n "__fish_flowtrace_using_subcommand find" -l store-timeout -d 'With a PostgreSQL --store: the longest one query may run before it is cancelled' -r
complete -c flowtrace -n "__fish_flowtrace_using_subcommand find" -s j -l threads -d 'Threads for each stage that runs in parallel, 1 to 64: decoding each log input [default: one per core but one], and following traces for classify, traces, triage, graph and report [default: none beside the ordering thread on up to three cores, a quarter of the cores (2 to 8) beyond]; 1 leaves cores free. Any -j gives the same answer' -r
complete -c flowtrace -n "__fish_flowtrace_using_subcommand find" -l max-line-bytes -d 'Longest line read, in bytes: longer ones are skipped and counted (memory stays bounded on a file without line ends or a decompression bomb)' -r
complete -c flowtrace -n "__fish_flowtrace_using_subcommand find" -l reorder-window -d 'With --follow: how long an event is held so that an earlier one from another input or pod can go first; one that comes later still is printed marked `late`' -r
complete -c flowtrace -n "__fish_flowtrace_using_subcommand find" -l idle -d 'With --follow: say so once on stderr after this long without an event (`0`: never)' -r
complete -c flowtrace -n "__fish_flowtrace_using_subcommand find" -l interval -d 'With --follow --store: how often the store is asked for new rows (read-only queries)' -r
complete -c flowtrace -n "__fish_flowtrace_using_subcommand find" -l trace -d 'Only this trace id (repeat or comma-separate for several)' -r
complete -c flowtrace -n "__fish_flowtrace_using_subcommand find" -l tenant -d 'Only events of this tenant (taken from the line, or propagated within its trace)' -r
complete -c flowtrace -n "__fish_flowtrace_using_subcommand find" -l node -d 'Only events of this node name' -r
complete -c flowtrace -n "__fish_flowtrace_using_subcommand find" -l pod -d 'Only events of this pod (from `kubectl logs --prefix`: `[pod/NAME/CONTAINER]`)' -r
complete -c flowtrace -n "__fish_flowtrace_using_subcommand find" -l kind -d 'Only events of this kind, e.g. node_failed (repeat or comma-separate for several)' -r
complete -c flowtrace -n "__fish_flowtrace_using_subcommand find" -l since -d 'Only events at or after this time: RFC 3339 (2026-11-25T08:00:00Z) or a duration (30s, 15m, 2h, 1d) before the newest event read, or before now with --now' -r
complete -c flowtrace -n "__fish_flowtrace_using_subcommand find" -l until -d 'Only events at or before this time: RFC 3339 or a duration, as for --since' -r
complete -c flowtrace -n "__fish_flowtrace_using_subcommand find" -l format -d 'Output format [default: table]' -r -f -a "table\t'A page for reading on a terminal'
json\t'The report as one JSON object (a stable contract, see the README)'
markdown\t'A Markdown section, for incident documents'"
complete -c flowtrace -n "__fish_flowtrace_using_subcommand find" -l color -d 'When to color the output; `auto` colors a terminal unless NO_COLOR is set' -r -f -a "auto\t''
always\t''
never\t''"
complete -c flowtrace -n "__fish_flowtrace_using_subcommand find" -l strict -d 'Stop with an error at the first line that is not a JSON object (after kubectl prefixes) or is longer than --max-line-bytes'
complete -c flowtrace -n "__fish_flowtrace_using_subcommand find" -s q -l quiet -d 'Do not print the summary of skipped lines on stderr'
complete -c flowtrace -n "__fish_flowtrace_using_subcommand find" -s f -l follow -d 'Keep reading as the input grows, printing events as they come: standard input (say `kubectl logs -f`) until it closes, files as `tail -F` does (from their end, or from --since; reopened when rotated, truncated or deleted and recreated, said on stderr) until Ctrl-C'
complete -c flowtrace -n "__fish_flowtrace_using_subcommand find" -l keep -d 'With --follow: keep following after the trace reaches a terminal status'
complete -c flowtrace -n "__fish_flowtrace_using_subcommand find" -l now -d 'Count --since/--until durations back from the current clock, not from the newest event'
complete -c flowtrace -n "__fish_flowtrace_using_subcommand find" -l all -d 'Show node_start rows in the timeline too (by default folded into the attempt they began)'
complete -c flowtrace -n "__fish_flowtrace_using_subcommand find" -l full-scan -d 'Parse every line: learn the flow graph (and the next node\'s queue depth) from the whole input instead of from each input\'s first 20,000 lines and the trace\'s own lines (slower)'
complete -c flowtrace -n "__fish_flowtrace_using_subcommand find" -l no-redact -d 'Show exception text whole; by default secrets in it (API keys, tokens, passwords in URLs, long hex/base64 strings) are masked'
complete -c flowtrace -n "__fish_flowtrace_using_subcommand find" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c flowtrace -n "__fish_flowtrace_using_subcommand classify" -l store -d 'The event store (PenguiFlow\'s flow_events table), read-only, never modified: a SQLite file, or a PostgreSQL URL postgres://user@host:5432/db (PG* variables and ~/.pgpass give what it leaves out; sslmode=require encrypts)' -r -F
complete -c flowtrace -n "__fish_flowtrace_using_subcommand classify" -l table -d 'The events table of --store (PostgreSQL: schema.table allowed)' -r
complete -c flowtrace -n "__fish_flowtrace_using_subcommand classify" -l store-timeout -d 'With a PostgreSQL --store: the longest one query may run before it is cancelled' -r
complete -c flowtrace -n "__fish_flowtrace_using_subcommand classify" -s j -l threads -d 'Threads for each stage that runs in parallel, 1 to 64: decoding each log input [default: one per core but one], and following traces for classify, traces, triage, graph and report [default: none beside the ordering thread on up to three cores, a quarter of the cores (2 to 8) beyond]; 1 leaves cores free. Any -j gives the same answer' -r
complete -c flowtrace -n "__fish_flowtrace_using_subcommand classify" -l max-line-bytes -d 'Longest line read, in bytes: longer ones are skipped and counted (memory stays bounded on a file without line ends or a decompression bomb)' -r
complete -c flowtrace -n "__fish_flowtrace_using_subcommand classify" -l trace -d 'Only this trace id (repeat or comma-separate for several)' -r
complete -c flowtrace -n "__fish_flowtrace_using_subcommand classify" -l tenant -d 'Only events of this tenant (taken from the line, or propagated within its trace)' -r
complete -c flowtrace -n "__fish_flowtrace_using_subcommand classify" -l node -d 'Only events of this node name' -r
complete -c flowtrace -n "__fish_flowtrace_using_subcommand classify" -l pod -d 'Only events of this pod (from `kubectl logs --prefix`: `[pod/NAME/CONTAINER]`)' -r
complete -c flowtrace -n "__fish_flowtrace_using_subcommand classify" -l kind -d 'Only events of this kind, e.g. node_failed (repeat or comma-separate for several)' -r
complete -c flowtrace -n "__fish_flowtrace_using_subcommand classify" -l since -d 'Only events at or after this time: RFC 3339 (2026-11-25T08:00:00Z) or a duration (30s, 15m, 2h, 1d) before the newest event read, or before now with --now' -r
complete -c flowtrace -n "__fish_flowtrace_using_subcommand classify" -l until -d 'Only events at or before this time: RFC 3339 or a duration, as for --since' -r
complete -c flowtrace -n "__fish_flowtrace_using_subcommand classify" -l by -d 'Group failures by node, tenant, kind, pod, or over time (second, minute, hour); two comma-separated give one row per pair, e.g. `--by tenant,node`' -r -f -a "node\t''
tenant\t''
kind\t''
pod\t''
second\t''
minute\t''
hour\t''"
complete -c flowtrace -n "__fish_flowtrace_using_subcommand classify" -l fail-on -d 'Exit with status 3 when any of these categories occurred (comma-separated)' -r -f -a "timeout\t''
error\t''
cancel\t''
deadline\t''"
complete -c flowtrace -n "__fish_flowtrace_using_subcommand classify" -l format -d 'Output format [default: table]' -r -f -a "table\t'A page for reading on a terminal'
json\t'The report as one JSON object (a stable contract, see the README)'
markdown\t'A Markdown section, for incident documents'"
complete -c flowtrace -n "__fish_flowtrace_using_subcommand classify" -l color -d 'When to color the output; `auto` colors a terminal unless NO_COLOR is set' -r -f -a "auto\t''
always\t''
never\t''"
complete -c flowtrace -n "__fish_flowtrace_using_subcommand classify" -l strict -d 'Stop with an error at the first line that is not a JSON object (after kubectl prefixes) or is longer than --max-line-bytes'
complete -c flowtrace -n "__fish_flowtrace_using_subcommand classify" -s q -l quiet -d 'Do not print the summary of skipped lines on stderr'
complete -c flowtrace -n "__fish_flowtrace_using_subcommand classify" -l now -d 'Count --since/--until durations back from the current clock, not from the newest event'
complete -c flowtrace -n "__fish_flowtrace_using_subcommand classify" -l messages -d 'Show one example message (masked) per exception type'
complete -c flowtrace -n "__fish_flowtrace_using_subcommand classify" -l no-redact -d 'Show exception text whole; by default secrets in it (API keys, tokens, passwords in URLs, long hex/base64 strings) are masked'
complete -c flowtrace -n "__fish_flowtrace_using_subcommand classify" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c flowtrace -n "__fish_flowtrace_using_subcommand saturation" -l store -d 'The event store (PenguiFlow\'s flow_events table), read-only, never modified: a SQLite file, or a PostgreSQL URL postgres://user@host:5432/db (PG* variables and ~/.pgpass give what it leaves out; sslmode=require encrypts)' -r -F
complete -c flowtrace -n "__fish_flowtrace_using_subcommand saturation" -l table -d 'The events table of --store (PostgreSQL: schema.table allowed)' -r
complete -c flowtrace -n "__fish_flowtrace_using_subcommand saturation" -l store-timeout -d 'With a PostgreSQL --store: the longest one query may run before it is cancelled' -r
complete -c flowtrace -n "__fish_flowtrace_using_subcommand saturation" -s j -l threads -d 'Threads for each stage that runs in parallel, 1 to 64: decoding each log input [default: one per core but one], and following traces for classify, traces, triage, graph and report [default: none beside the ordering thread on up to three cores, a quarter of the cores (2 to 8) beyond]; 1 leaves cores free. Any -j gives the same answer' -r
complete -c flowtrace -n "__fish_flowtrace_using_subcommand saturation" -l max-line-bytes -d 'Longest line read, in bytes: longer ones are skipped and counted (memory stays bounded on a file without line ends or a decompression bomb)' -r
complete -c flowtrace -n "__fish_flowtrace_using_subcommand saturation" -l window -d 'With --watch: the span of log time each report covers' -r
complete -c flowtrace -n "__fish_flowtrace_using_subcommand saturation" -l interval -d 'With --watch: how often the report is recomputed' -r
complete -c flowtrace -n "__fish_flowtrace_using_subcommand saturation" -l reorder-window -d 'With --watch: how long an event is held so that an earlier one from another input or pod can go first' -r
complete -c flowtrace -n "__fish_flowtrace_using_subcommand saturation" -l idle -d 'With --watch: say so once on stderr after this long without an event (`0`: never)' -r
complete -c flowtrace -n "__fish_flowtrace_using_subcommand saturation" -l trace -d 'Only this trace id (repeat or comma-separate for several)' -r
complete -c flowtrace -n "__fish_flowtrace_using_subcommand saturation" -l tenant -d 'Only events of this tenant (taken from the line, or propagated within its trace)' -r
complete -c flowtrace -n "__fish_flowtrace_using_subcommand saturation" -l node -d 'Only events of this node name' -r
complete -c flowtrace -n "__fish_flowtrace_using_subcommand saturation" -l pod -d 'Only events of this pod (from `kubectl logs --prefix`: `[pod/NAME/CONTAINER]`)' -r
complete -c flowtrace -n "__fish_flowtrace_using_subcommand saturation" -l kind -d 'Only events of this kind, e.g. node_failed (repeat or comma-separate for several)' -r
complete -c flowtrace -n "__fish_flowtrace_using_subcommand saturation" -l since -d 'Only events at or after this time: RFC 3339 (2026-11-25T08:00:00Z) or a duration (30s, 15m, 2h, 1d) before the newest event read, or before now with --now' -r
complete -c flowtrace -n "__fish_flowtrace_using_subcommand saturation" -l until -d 'Only events at or before this time: RFC 3339 or a duration, as for --since' -r
complete -c flowtrace -n "__fish_flowtrace_using_subcommand saturation" -l bucket -d 'Bucket width of the time series, e.g. 10s, 1m, 5m [default: about 40 buckets]' -r
complete -c flowtrace -n "__fish_flowtrace_using_subcommand saturation" -l threshold -d 'Share of a bounded queue\'s capacity above which a node is saturated (unbounded queues: twice their own p95)' -r
complete -c flowtrace -n "__fish_flowtrace_using_subcommand saturation" -l sustain -d 'Consecutive buckets a condition must last to be reported' -r
complete -c flowtrace -n "__fish_flowtrace_using_subcommand saturation" -l retry-rate -d 'Retry rate (node_retry / node_success) above which a node has a retry storm' -r
complete -c flowtrace -n "__fish_flowtrace_using_subcommand saturation" -l format -d 'Output format [default: table]' -r -f -a "table\t'A page for reading on a terminal'
json\t'The report as one JSON object (a stable contract, see the README)'
markdown\t'A Markdown section, for incident documents'"
complete -c flowtrace -n "__fish_flowtrace_using_subcommand saturation" -l color -d 'When to color the output; `auto` colors a terminal unless NO_COLOR is set' -r -f -a "auto\t''
always\t''
never\t''"
complete -c flowtrace -n "__fish_flowtrace_using_subcommand saturation" -l strict -d 'Stop with an error at the first line that is not a JSON object (after kubectl prefixes) or is longer than --max-line-bytes'
complete -c flowtrace -n "__fish_flowtrace_using_subcommand saturation" -s q -l quiet -d 'Do not print the summary of skipped lines on stderr'
complete -c flowtrace -n "__fish_flowtrace_using_subcommand saturation" -l watch -d 'A live view: follow the input (stdin, or files as `tail -F` does) and redraw the report over the last --window of events every --interval, like top; piped, write one JSON report per interval instead (JSON lines). Ctrl-C ends'
complete -c flowtrace -n "__fish_flowtrace_using_subcommand saturation" -l now -d 'Count --since/--until durations back from the current clock, not from the newest event'
complete -c flowtrace -n "__fish_flowtrace_using_subcommand saturation" -l no-redact -d 'Show exception text whole; by default secrets in it (API keys, tokens, passwords in URLs, long hex/base64 strings) are masked'
complete -c flowtrace -n "__fish_flowtrace_using_subcommand saturation" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c flowtrace -n "__fish_flowtrace_using_subcommand traces" -l store -d 'The event store (PenguiFlow\'s flow_events table), read-only, never modified: a SQLite file, or a PostgreSQL URL postgres://user@host:5432/db (PG* variables and ~/.pgpass give what it leaves out; sslmode=require encrypts)' -r -F
complete -c flowtrace -n "__fish_flowtrace_using_subcommand traces" -l table -d 'The events table of --store (PostgreSQL: schema.table allowed)' -r
complete -c flowtrace -n "__fish_flowtrace_using_subcommand traces" -l store-timeout -d 'With a PostgreSQL --store: the longest one query may run before it is cancelled' -r
complete -c flowtrace -n "__fish_flowtrace_using_subcommand traces" -s j -l threads -d 'Threads for each stage that runs in parallel, 1 to 64: decoding each log input [default: one per core but one], and following traces for classify, traces, triage, graph and report [default: none beside the ordering thread on up to three cores, a quarter of the cores (2 to 8) beyond]; 1 leaves cores free. Any -j gives the same answer' -r
complete -c flowtrace -n "__fish_flowtrace_using_subcommand traces" -l max-line-bytes -d 'Longest line read, in bytes: longer ones are skipped and counted (memory stays bounded on a file without line ends or a decompression bomb)' -r
complete -c flowtrace -n "__fish_flowtrace_using_subcommand traces" -l trace -d 'Only this trace id (repeat or comma-separate for several)' -r
complete -c flowtrace -n "__fish_flowtrace_using_subcommand traces" -l tenant -d 'Only events of this tenant (taken from the line, or propagated within its trace)' -r
complete -c flowtrace -n "__fish_flowtrace_using_subcommand traces" -l node -d 'Only events of this node name' -r
complete -c flowtrace -n "__fish_flowtrace_using_subcommand traces" -l pod -d 'Only events of this pod (from `kubectl logs --prefix`: `[pod/NAME/CONTAINER]`)' -r
complete -c flowtrace -n "__fish_flowtrace_using_subcommand traces" -l kind -d 'Only events of this kind, e.g. node_failed (repeat or comma-separate for several)' -r
complete -c flowtrace -n "__fish_flowtrace_using_subcommand traces" -l since -d 'Only events at or after this time: RFC 3339 (2026-11-25T08:00:00Z) or a duration (30s, 15m, 2h, 1d) before the newest event read, or before now with --now' -r
complete -c flowtrace -n "__fish_flowtrace_using_subcommand traces" -l until -d 'Only events at or before this time: RFC 3339 or a duration, as for --since' -r
complete -c flowtrace -n "__fish_flowtrace_using_subcommand traces" -l status -d 'Only traces with this status (comma-separated): succeeded, failed, cancelled, deadline_skipped, in_flight' -r -f -a "succeeded\t''
failed\t''
cancelled\t''
deadline_skipped\t''
in_flight\t''"
complete -c flowtrace -n "__fish_flowtrace_using_subcommand traces" -l category -d 'Only traces whose failure category is one of these (comma-separated)' -r -f -a "timeout\t''
error\t''
cancel\t''
deadline\t''"
complete -c flowtrace -n "__fish_flowtrace_using_subcommand traces" -l sort -d 'Order of the rows' -r -f -a "recent\t'Most recent last event first'
start\t'Earliest start first'
duration\t'Longest first'
events\t'Most events first'
retries\t'Most retries first'"
complete -c flowtrace -n "__fish_flowtrace_using_subcommand traces" -l limit -d 'Show at most N rows [default: 50 on a terminal, all when piped]' -r
complete -c flowtrace -n "__fish_flowtrace_using_subcommand traces" -l format -d 'Output format [default: table on a terminal, json when piped]' -r -f -a "table\t'A page for reading on a terminal'
json\t'The report as one JSON object (a stable contract, see the README)'
markdown\t'A Markdown section, for incident documents'"
complete -c flowtrace -n "__fish_flowtrace_using_subcommand traces" -l color -d 'When to color the output; `auto` colors a terminal unless NO_COLOR is set' -r -f -a "auto\t''
always\t''
never\t''"
complete -c flowtrace -n "__fish_flowtrace_using_subcommand traces" -l strict -d 'Stop with an error at the first line that is not a JSON object (after kubectl prefixes) or is longer than --max-line-bytes'
complete -c flowtrace -n "__fish_flowtrace_using_subcommand traces" -s q -l quiet -d 'Do not print the summary of skipped lines on stderr'
complete -c flowtrace -n "__fish_flowtrace_using_subcommand traces" -l now -d 'Count --since/--until durations back from the current clock, not from the newest event'
complete -c flowtrace -n "__fish_flowtrace_using_subcommand traces" -l no-redact -d 'Show exception text whole; by default secrets in it (API keys, tokens, passwords in URLs, long hex/base64 strings) are masked'
complete -c flowtrace -n "__fish_flowtrace_using_subcommand traces" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c flowtrace -n "__fish_flowtrace_using_subcommand graph" -l store -d 'The event store (PenguiFlow\'s flow_events table), read-only, never modified: a SQLite file, or a PostgreSQL URL postgres://user@host:5432/db (PG* variables and ~/.pgpass give what it leaves out; sslmode=require encrypts)' -r -F
complete -c flowtrace -n "__fish_flowtrace_using_subcommand graph" -l table -d 'The events table of --store (PostgreSQL: schema.table allowed)' -r
complete -c flowtrace -n "__fish_flowtrace_using_subcommand graph" -l store-timeout -d 'With a PostgreSQL --store: the longest one query may run before it is cancelled' -r
complete -c flowtrace -n "__fish_flowtrace_using_subcommand graph" -s j -l threads -d 'Threads for each stage that runs in parallel, 1 to 64: decoding each log input [default: one per core but one], and following traces for classify, traces, triage, graph and report [default: none beside the ordering thread on up to three cores, a quarter of the cores (2 to 8) beyond]; 1 leaves cores free. Any -j gives the same answer' -r
complete -c flowtrace -n "__fish_flowtrace_using_subcommand graph" -l max-line-bytes -d 'Longest line read, in bytes: longer ones are skipped and counted (memory stays bounded on a file without line ends or a decompression bomb)' -r
complete -c flowtrace -n "__fish_flowtrace_using_subcommand graph" -l trace -d 'Only this trace id (repeat or comma-separate for several)' -r
complete -c flowtrace -n "__fish_flowtrace_using_subcommand graph" -l tenant -d 'Only events of this tenant (taken from the line, or propagated within its trace)' -r
complete -c flowtrace -n "__fish_flowtrace_using_subcommand graph" -l node -d 'Only events of this node name' -r
complete -c flowtrace -n "__fish_flowtrace_using_subcommand graph" -l pod -d 'Only events of this pod (from `kubectl logs --prefix`: `[pod/NAME/CONTAINER]`)' -r
complete -c flowtrace -n "__fish_flowtrace_using_subcommand graph" -l kind -d 'Only events of this kind, e.g. node_failed (repeat or comma-separate for several)' -r
complete -c flowtrace -n "__fish_flowtrace_using_subcommand graph" -l since -d 'Only events at or after this time: RFC 3339 (2026-11-25T08:00:00Z) or a duration (30s, 15m, 2h, 1d) before the newest event read, or before now with --now' -r
complete -c flowtrace -n "__fish_flowtrace_using_subcommand graph" -l until -d 'Only events at or before this time: RFC 3339 or a duration, as for --since' -r
complete -c flowtrace -n "__fish_flowtrace_using_subcommand graph" -l format -d 'Output format' -r -f -a "text\t'A tree from the ingress, for the terminal'
mermaid\t'A Mermaid flowchart, for Markdown documents and tickets'
dot\t'Graphviz DOT'
json\t'`{nodes, edges}` as JSON'"
complete -c flowtrace -n "__fish_flowtrace_using_subcommand graph" -l color -d 'When to color the output; `auto` colors a terminal unless NO_COLOR is set' -r -f -a "auto\t''
always\t''
never\t''"
complete -c flowtrace -n "__fish_flowtrace_using_subcommand graph" -l strict -d 'Stop with an error at the first line that is not a JSON object (after kubectl prefixes) or is longer than --max-line-bytes'
complete -c flowtrace -n "__fish_flowtrace_using_subcommand graph" -s q -l quiet -d 'Do not print the summary of skipped lines on stderr'
complete -c flowtrace -n "__fish_flowtrace_using_subcommand graph" -l now -d 'Count --since/--until durations back from the current clock, not from the newest event'
complete -c flowtrace -n "__fish_flowtrace_using_subcommand graph" -l no-redact -d 'Show exception text whole; by default secrets in it (API keys, tokens, passwords in URLs, long hex/base64 strings) are masked'
complete -c flowtrace -n "__fish_flowtrace_using_subcommand graph" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c flowtrace -n "__fish_flowtrace_using_subcommand triage" -l store -d 'The event store (PenguiFlow\'s flow_events table), read-only, never modified: a SQLite file, or a PostgreSQL URL postgres://user@host:5432/db (PG* variables and ~/.pgpass give what it leaves out; sslmode=require encrypts)' -r -F
complete -c flowtrace -n "__fish_flowtrace_using_subcommand triage" -l table -d 'The events table of --store (PostgreSQL: schema.table allowed)' -r
complete -c flowtrace -n "__fish_flowtrace_using_subcommand triage" -l store-timeout -d 'With a PostgreSQL --store: the longest one query may run before it is cancelled' -r
complete -c flowtrace -n "__fish_flowtrace_using_subcommand triage" -s j -l threads -d 'Threads for each stage that runs in parallel, 1 to 64: decoding each log input [default: one per core but one], and following traces for classify, traces, triage, graph and report [default: none beside the ordering thread on up to three cores, a quarter of the cores (2 to 8) beyond]; 1 leaves cores free. Any -j gives the same answer' -r
complete -c flowtrace -n "__fish_flowtrace_using_subcommand triage" -l max-line-bytes -d 'Longest line read, in bytes: longer ones are skipped and counted (memory stays bounded on a file without line ends or a decompression bomb)' -r
complete -c flowtrace -n "__fish_flowtrace_using_subcommand triage" -l window -d 'With --watch: the span of log time each report covers' -r
complete -c flowtrace -n "__fish_flowtrace_using_subcommand triage" -l interval -d 'With --watch: how often the report is recomputed' -r
complete -c flowtrace -n "__fish_flowtrace_using_subcommand triage" -l reorder-window -d 'With --watch: how long an event is held so that an earlier one from another input or pod can go first' -r
complete -c flowtrace -n "__fish_flowtrace_using_subcommand triage" -l idle -d 'With --watch: say so once on stderr after this long without an event (`0`: never)' -r
complete -c flowtrace -n "__fish_flowtrace_using_subcommand triage" -l trace -d 'Only this trace id (repeat or comma-separate for several)' -r
complete -c flowtrace -n "__fish_flowtrace_using_subcommand triage" -l tenant -d 'Only events of this tenant (taken from the line, or propagated within its trace)' -r
complete -c flowtrace -n "__fish_flowtrace_using_subcommand triage" -l node -d 'Only events of this node name' -r
complete -c flowtrace -n "__fish_flowtrace_using_subcommand triage" -l pod -d 'Only events of this pod (from `kubectl logs --prefix`: `[pod/NAME/CONTAINER]`)' -r
complete -c flowtrace -n "__fish_flowtrace_using_subcommand triage" -l kind -d 'Only events of this kind, e.g. node_failed (repeat or comma-separate for several)' -r
complete -c flowtrace -n "__fish_flowtrace_using_subcommand triage" -l since -d 'Only events at or after this time: RFC 3339 (2026-11-25T08:00:00Z) or a duration (30s, 15m, 2h, 1d) before the newest event read, or before now with --now' -r
complete -c flowtrace -n "__fish_flowtrace_using_subcommand triage" -l until -d 'Only events at or before this time: RFC 3339 or a duration, as for --since' -r
complete -c flowtrace -n "__fish_flowtrace_using_subcommand triage" -l format -d 'Output format [default: table]' -r -f -a "table\t'A page for reading on a terminal'
json\t'The report as one JSON object (a stable contract, see the README)'
markdown\t'A Markdown section, for incident documents'"
complete -c flowtrace -n "__fish_flowtrace_using_subcommand triage" -l color -d 'When to color the output; `auto` colors a terminal unless NO_COLOR is set' -r -f -a "auto\t''
always\t''
never\t''"
complete -c flowtrace -n "__fish_flowtrace_using_subcommand triage" -l strict -d 'Stop with an error at the first line that is not a JSON object (after kubectl prefixes) or is longer than --max-line-bytes'
complete -c flowtrace -n "__fish_flowtrace_using_subcommand triage" -s q -l quiet -d 'Do not print the summary of skipped lines on stderr'
complete -c flowtrace -n "__fish_flowtrace_using_subcommand triage" -l watch -d 'A live view: follow the input (stdin, or files as `tail -F` does) and redraw the report over the last --window of events every --interval, like top; piped, write one JSON report per interval instead (JSON lines). Ctrl-C ends'
complete -c flowtrace -n "__fish_flowtrace_using_subcommand triage" -l now -d 'Count --since/--until durations back from the current clock, not from the newest event'
complete -c flowtrace -n "__fish_flowtrace_using_subcommand triage" -l no-redact -d 'Show exception text whole; by default secrets in it (API keys, tokens, passwords in URLs, long hex/base64 strings) are masked'
complete -c flowtrace -n "__fish_flowtrace_using_subcommand triage" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c flowtrace -n "__fish_flowtrace_using_subcommand report" -l store -d 'The event store (PenguiFlow\'s flow_events table), read-only, never modified: a SQLite file, or a PostgreSQL URL postgres://user@host:5432/db (PG* variables and ~/.pgpass give what it leaves out; sslmode=require encrypts)' -r -F
complete -c flowtrace -n "__fish_flowtrace_using_subcommand report" -l table -d 'The events table of --store (PostgreSQL: schema.table allowed)' -r
complete -c flowtrace -n "__fish_flowtrace_using_subcommand report" -l store-timeout -d 'With a PostgreSQL --store: the longest one query may run before it is cancelled' -r
complete -c flowtrace -n "__fish_flowtrace_using_subcommand report" -s j -l threads -d 'Threads for each stage that runs in parallel, 1 to 64: decoding each log input [default: one per core but one], and following traces for classify, traces, triage, graph and report [default: none beside the ordering thread on up to three cores, a quarter of the cores (2 to 8) beyond]; 1 leaves cores free. Any -j gives the same answer' -r
complete -c flowtrace -n "__fish_flowtrace_using_subcommand report" -l max-line-bytes -d 'Longest line read, in bytes: longer ones are skipped and counted (memory stays bounded on a file without line ends or a decompression bomb)' -r
complete -c flowtrace -n "__fish_flowtrace_using_subcommand report" -l trace -d 'Only this trace id (repeat or comma-separate for several)' -r
complete -c flowtrace -n "__fish_flowtrace_using_subcommand report" -l tenant -d 'Only events of this tenant (taken from the line, or propagated within its trace)' -r
complete -c flowtrace -n "__fish_flowtrace_using_subcommand report" -l node -d 'Only events of this node name' -r
complete -c flowtrace -n "__fish_flowtrace_using_subcommand report" -l pod -d 'Only events of this pod (from `kubectl logs --prefix`: `[pod/NAME/CONTAINER]`)' -r
complete -c flowtrace -n "__fish_flowtrace_using_subcommand report" -l kind -d 'Only events of this kind, e.g. node_failed (repeat or comma-separate for several)' -r
complete -c flowtrace -n "__fish_flowtrace_using_subcommand report" -l since -d 'Only events at or after this time: RFC 3339 (2026-11-25T08:00:00Z) or a duration (30s, 15m, 2h, 1d) before the newest event read, or before now with --now' -r
complete -c flowtrace -n "__fish_flowtrace_using_subcommand report" -l until -d 'Only events at or before this time: RFC 3339 or a duration, as for --since' -r
complete -c flowtrace -n "__fish_flowtrace_using_subcommand report" -s o -l output -d 'The HTML file to write (replaced if it exists); `-` writes to standard output' -r -F
complete -c flowtrace -n "__fish_flowtrace_using_subcommand report" -l strict -d 'Stop with an error at the first line that is not a JSON object (after kubectl prefixes) or is longer than --max-line-bytes'
complete -c flowtrace -n "__fish_flowtrace_using_subcommand report" -s q -l quiet -d 'Do not print the summary of skipped lines on stderr'
complete -c flowtrace -n "__fish_flowtrace_using_subcommand report" -l now -d 'Count --since/--until durations back from the current clock, not from the newest event'
complete -c flowtrace -n "__fish_flowtrace_using_subcommand report" -l full-scan -d 'With one --trace: parse every line, as find --full-scan does'
complete -c flowtrace -n "__fish_flowtrace_using_subcommand report" -l no-redact -d 'Show exception text whole; by default secrets in it (API keys, tokens, passwords in URLs, long hex/base64 strings) are masked'
complete -c flowtrace -n "__fish_flowtrace_using_subcommand report" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c flowtrace -n "__fish_flowtrace_using_subcommand import" -l store -d 'The store to write (created with the flow_events schema if missing): a SQLite file, or a PostgreSQL URL postgres://user@host:5432/db (the table and its indexes created there)' -r -F
complete -c flowtrace -n "__fish_flowtrace_using_subcommand import" -l table -d 'The events table of the store' -r
complete -c flowtrace -n "__fish_flowtrace_using_subcommand import" -s j -l threads -d 'Threads decoding each log input, 1 to 64 [default: one per core but one]' -r
complete -c flowtrace -n "__fish_flowtrace_using_subcommand import" -l max-line-bytes -d 'Longest line read, in bytes: longer ones are skipped and counted' -r
complete -c flowtrace -n "__fish_flowtrace_using_subcommand import" -l trace -d 'Only this trace id (repeat or comma-separate for several)' -r
complete -c flowtrace -n "__fish_flowtrace_using_subcommand import" -l tenant -d 'Only events of this tenant (taken from the line, or propagated within its trace)' -r
complete -c flowtrace -n "__fish_flowtrace_using_subcommand import" -l node -d 'Only events of this node name' -r
complete -c flowtrace -n "__fish_flowtrace_using_subcommand import" -l pod -d 'Only events of this pod (from `kubectl logs --prefix`: `[pod/NAME/CONTAINER]`)' -r
complete -c flowtrace -n "__fish_flowtrace_using_subcommand import" -l kind -d 'Only events of this kind, e.g. node_failed (repeat or comma-separate for several)' -r
complete -c flowtrace -n "__fish_flowtrace_using_subcommand import" -l since -d 'Only events at or after this time: RFC 3339 (2026-11-25T08:00:00Z) or a duration (30s, 15m, 2h, 1d) before the newest event read, or before now with --now' -r
complete -c flowtrace -n "__fish_flowtrace_using_subcommand import" -l until -d 'Only events at or before this time: RFC 3339 or a duration, as for --since' -r
complete -c flowtrace -n "__fish_flowtrace_using_subcommand import" -l strict -d 'Stop with an error at the first line that is not a JSON object (or too long to read)'
complete -c flowtrace -n "__fish_flowtrace_using_subcommand import" -s q -l quiet -d 'Do not print the summary on stderr'
complete -c flowtrace -n "__fish_flowtrace_using_subcommand import" -l now -d 'Count --since/--until durations back from the current clock, not from the newest event'
complete -c flowtrace -n "__fish_flowtrace_using_subcommand import" -l no-redact -d 'Store exception text whole; by default secrets in it are masked before writing'
complete -c flowtrace -n "__fish_flowtrace_using_subcommand import" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c flowtrace -n "__fish_flowtrace_using_subcommand lint" -l store -d 'The event store (PenguiFlow\'s flow_events table), read-only, never modified: a SQLite file, or a PostgreSQL URL postgres://user@host:5432/db (PG* variables and ~/.pgpass give what it leaves out; sslmode=require encrypts)' -r -F
complete -c flowtrace -n "__fish_flowtrace_using_subcommand lint" -l table -d 'The events table of --store (PostgreSQL: schema.table allowed)' -r
complete -c flowtrace -n "__fish_flowtrace_using_subcommand lint" -l store-timeout -d 'With a PostgreSQL --store: the longest one query may run before it is cancelled' -r
complete -c flowtrace -n "__fish_flowtrace_using_subcommand lint" -s j -l threads -d 'Threads for each stage that runs in parallel, 1 to 64: decoding each log input [default: one per core but one], and following traces for classify, traces, triage, graph and report [default: none beside the ordering thread on up to three cores, a quarter of the cores (2 to 8) beyond]; 1 leaves cores free. Any -j gives the same answer' -r
complete -c flowtrace -n "__fish_flowtrace_using_subcommand lint" -l max-line-bytes -d 'Longest line read, in bytes: longer ones are skipped and counted (memory stays bounded on a file without line ends or a decompression bomb)' -r
complete -c flowtrace -n "__fish_flowtrace_using_subcommand lint" -l trace -d 'Only this trace id (repeat or comma-separate for several)' -r
complete -c flowtrace -n "__fish_flowtrace_using_subcommand lint" -l tenant -d 'Only events of this tenant (taken from the line, or propagated within its trace)' -r
complete -c flowtrace -n "__fish_flowtrace_using_subcommand lint" -l node -d 'Only events of this node name' -r
complete -c flowtrace -n "__fish_flowtrace_using_subcommand lint" -l pod -d 'Only events of this pod (from `kubectl logs --prefix`: `[pod/NAME/CONTAINER]`)' -r
complete -c flowtrace -n "__fish_flowtrace_using_subcommand lint" -l kind -d 'Only events of this kind, e.g. node_failed (repeat or comma-separate for several)' -r
complete -c flowtrace -n "__fish_flowtrace_using_subcommand lint" -l since -d 'Only events at or after this time: RFC 3339 (2026-11-25T08:00:00Z) or a duration (30s, 15m, 2h, 1d) before the newest event read, or before now with --now' -r
complete -c flowtrace -n "__fish_flowtrace_using_subcommand lint" -l until -d 'Only events at or before this time: RFC 3339 or a duration, as for --since' -r
complete -c flowtrace -n "__fish_flowtrace_using_subcommand lint" -l format -d 'Output format [default: table]' -r -f -a "table\t''
json\t''
markdown\t''
sarif\t'SARIF 2.1.0, for code-scanning views in CI'"
complete -c flowtrace -n "__fish_flowtrace_using_subcommand lint" -l fail-on-severity -d 'Exit with status 4 when a finding of this severity or above occurred' -r -f -a "info\t''
warning\t''
error\t''"
complete -c flowtrace -n "__fish_flowtrace_using_subcommand lint" -l color -d 'When to color the output; `auto` colors a terminal unless NO_COLOR is set' -r -f -a "auto\t''
always\t''
never\t''"
complete -c flowtrace -n "__fish_flowtrace_using_subcommand lint" -l strict -d 'Stop with an error at the first line that is not a JSON object (after kubectl prefixes) or is longer than --max-line-bytes'
complete -c flowtrace -n "__fish_flowtrace_using_subcommand lint" -s q -l quiet -d 'Do not print the summary of skipped lines on stderr'
complete -c flowtrace -n "__fish_flowtrace_using_subcommand lint" -l now -d 'Count --since/--until durations back from the current clock, not from the newest event'
complete -c flowtrace -n "__fish_flowtrace_using_subcommand lint" -l no-redact -d 'Show exception text whole; by default secrets in it (API keys, tokens, passwords in URLs, long hex/base64 strings) are masked'
complete -c flowtrace -n "__fish_flowtrace_using_subcommand lint" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c flowtrace -n "__fish_flowtrace_using_subcommand metrics" -l store -d 'The event store (PenguiFlow\'s flow_events table), read-only, never modified: a SQLite file, or a PostgreSQL URL postgres://user@host:5432/db (PG* variables and ~/.pgpass give what it leaves out; sslmode=require encrypts)' -r -F
complete -c flowtrace -n "__fish_flowtrace_using_subcommand metrics" -l table -d 'The events table of --store (PostgreSQL: schema.table allowed)' -r
complete -c flowtrace -n "__fish_flowtrace_using_subcommand metrics" -l store-timeout -d 'With a PostgreSQL --store: the longest one query may run before it is cancelled' -r
complete -c flowtrace -n "__fish_flowtrace_using_subcommand metrics" -s j -l threads -d 'Threads for each stage that runs in parallel, 1 to 64: decoding each log input [default: one per core but one], and following traces for classify, traces, triage, graph and report [default: none beside the ordering thread on up to three cores, a quarter of the cores (2 to 8) beyond]; 1 leaves cores free. Any -j gives the same answer' -r
complete -c flowtrace -n "__fish_flowtrace_using_subcommand metrics" -l max-line-bytes -d 'Longest line read, in bytes: longer ones are skipped and counted (memory stays bounded on a file without line ends or a decompression bomb)' -r
complete -c flowtrace -n "__fish_flowtrace_using_subcommand metrics" -l trace -d 'Only this trace id (repeat or comma-separate for several)' -r
complete -c flowtrace -n "__fish_flowtrace_using_subcommand metrics" -l tenant -d 'Only events of this tenant (taken from the line, or propagated within its trace)' -r
complete -c flowtrace -n "__fish_flowtrace_using_subcommand metrics" -l node -d 'Only events of this node name' -r
complete -c flowtrace -n "__fish_flowtrace_using_subcommand metrics" -l pod -d 'Only events of this pod (from `kubectl logs --prefix`: `[pod/NAME/CONTAINER]`)' -r
complete -c flowtrace -n "__fish_flowtrace_using_subcommand metrics" -l kind -d 'Only events of this kind, e.g. node_failed (repeat or comma-separate for several)' -r
complete -c flowtrace -n "__fish_flowtrace_using_subcommand metrics" -l since -d 'Only events at or after this time: RFC 3339 (2026-11-25T08:00:00Z) or a duration (30s, 15m, 2h, 1d) before the newest event read, or before now with --now' -r
complete -c flowtrace -n "__fish_flowtrace_using_subcommand metrics" -l until -d 'Only events at or before this time: RFC 3339 or a duration, as for --since' -r
complete -c flowtrace -n "__fish_flowtrace_using_subcommand metrics" -l step -d 'One sample per series per step' -r
complete -c flowtrace -n "__fish_flowtrace_using_subcommand metrics" -s o -l out -d 'Where to write (`-`: standard output)' -r -F
complete -c flowtrace -n "__fish_flowtrace_using_subcommand metrics" -l format -d 'openmetrics: the metrics; prometheus-rules: starter alert rules over them (no input read)' -r -f -a "openmetrics\t'OpenMetrics text with timestamps, for promtool\'s backfill'
prometheus-rules\t'A Prometheus alerting rules file (promtool check rules)'"
complete -c flowtrace -n "__fish_flowtrace_using_subcommand metrics" -l strict -d 'Stop with an error at the first line that is not a JSON object (after kubectl prefixes) or is longer than --max-line-bytes'
complete -c flowtrace -n "__fish_flowtrace_using_subcommand metrics" -s q -l quiet -d 'Do not print the summary of skipped lines on stderr'
complete -c flowtrace -n "__fish_flowtrace_using_subcommand metrics" -l now -d 'Count --since/--until durations back from the current clock, not from the newest event'
complete -c flowtrace -n "__fish_flowtrace_using_subcommand metrics" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c flowtrace -n "__fish_flowtrace_using_subcommand completions" -s h -l help -d 'Print help'
complete -c flowtrace -n "__fish_flowtrace_using_subcommand help; and not __fish_seen_subcommand_from events find classify saturation traces graph triage report import lint metrics completions help" -f -a "events" -d 'Print the selected events, normalized, in time order'
complete -c flowtrace -n "__fish_flowtrace_using_subcommand help; and not __fish_seen_subcommand_from events find classify saturation traces graph triage report import lint metrics completions help" -f -a "find" -d 'Where did this trace stop, and why: timeline, last success, next node, what to do'
complete -c flowtrace -n "__fish_flowtrace_using_subcommand help; and not __fish_seen_subcommand_from events find classify saturation traces graph triage report import lint metrics completions help" -f -a "classify" -d 'What is failing across the flow: failures by category, node, tenant or time, top exceptions, and what to do about each'
complete -c flowtrace -n "__fish_flowtrace_using_subcommand help; and not __fish_seen_subcommand_from events find classify saturation traces graph triage report import lint metrics completions help" -f -a "saturation" -d 'Is the flow stuck: queue depth over time, latency percentiles, retries, the bottleneck'
complete -c flowtrace -n "__fish_flowtrace_using_subcommand help; and not __fish_seen_subcommand_from events find classify saturation traces graph triage report import lint metrics completions help" -f -a "traces" -d 'One row per trace: status, category, duration, last node; find the traces worth opening'
complete -c flowtrace -n "__fish_flowtrace_using_subcommand help; and not __fish_seen_subcommand_from events find classify saturation traces graph triage report import lint metrics completions help" -f -a "graph" -d 'The flow\'s topology as the telemetry shows it: nodes, edges with trace counts, failures'
complete -c flowtrace -n "__fish_flowtrace_using_subcommand help; and not __fish_seen_subcommand_from events find classify saturation traces graph triage report import lint metrics completions help" -f -a "triage" -d 'The whole incident on one screen: size, worst traces, saturation, control plane, cross-tenant traces and one checklist; the command to run first'
complete -c flowtrace -n "__fish_flowtrace_using_subcommand help; and not __fish_seen_subcommand_from events find classify saturation traces graph triage report import lint metrics completions help" -f -a "report" -d 'The incident report as one self-contained HTML page: triage\'s verdicts and checklist, charts, the flow graph and the worst traces\' timelines; for the incident ticket'
complete -c flowtrace -n "__fish_flowtrace_using_subcommand help; and not __fish_seen_subcommand_from events find classify saturation traces graph triage report import lint metrics completions help" -f -a "import" -d 'Write the events of logs into an event store, SQLite or PostgreSQL (PenguiFlow\'s flow_events schema), to archive an incident once and query it in milliseconds afterwards'
complete -c flowtrace -n "__fish_flowtrace_using_subcommand help; and not __fish_seen_subcommand_from events find classify saturation traces graph triage report import lint metrics completions help" -f -a "lint" -d 'Telemetry defects: what makes incidents undebuggable, costly, leaky or lossy, with locations and the fix'
complete -c flowtrace -n "__fish_flowtrace_using_subcommand help; and not __fish_seen_subcommand_from events find classify saturation traces graph triage report import lint metrics completions help" -f -a "metrics" -d 'Dashboards after the fact: the metrics PenguiFlow\'s guidance recommends, derived from the events, as OpenMetrics that `promtool tsdb create-blocks-from openmetrics` loads'
complete -c flowtrace -n "__fish_flowtrace_using_subcommand help; and not __fish_seen_subcommand_from events find classify saturation traces graph triage report import lint metrics completions help" -f -a "completions" -d 'Print a shell completion script (bash, zsh, fish, powershell, elvish)'
complete -c flowtrace -n "__fish_flowtrace_using_subcommand help; and not __fish_seen_subcommand_from events find classify saturation traces graph triage report import lint metrics completions help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
