//! `flowtrace report` in a real browser: the page of each committed fixture is opened in headless
//! Chromium (driven over the Chrome DevTools Protocol), which must log no error or warning, ask
//! for nothing beyond the page's own file, and show each chart with its data points; a
//! screenshot of each page lands in target/report-screenshots/. A hostile fixture proves that
//! text from the logs is shown as text, never run, and that secrets are masked.
//!
//! Chromium comes from Debian's `chromium` package (`.ci/run` installs it; `FLOWTRACE_CHROMIUM`
//! names another binary); without it these tests say so and pass, except where
//! `FLOWTRACE_REQUIRE_CHROMIUM` is set (CI).

mod common;

use std::io::{BufRead, BufReader};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::*;
use serde_json::{Value, json};
use tungstenite::{Message, WebSocket};

/// How long any one step in the browser may take before the test gives up.
const STEP: Duration = Duration::from_secs(30);

/// The Chromium to run, or `None` (said on stderr) when there is none outside CI.
fn chromium_binary() -> Option<String> {
    let binary = std::env::var("FLOWTRACE_CHROMIUM").unwrap_or_else(|_| "chromium".into());
    let found = Command::new(&binary)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success());
    if !found {
        assert!(
            std::env::var_os("FLOWTRACE_REQUIRE_CHROMIUM").is_none(),
            "FLOWTRACE_REQUIRE_CHROMIUM is set but {binary} is missing (apt-get install chromium)"
        );
        eprintln!("skipped: no {binary} (apt-get install chromium)");
    }
    found.then_some(binary)
}

/// A headless Chromium and one DevTools connection to it; closed (or killed) when dropped, a
/// failed test included.
struct Chromium {
    child: Child,
    socket: WebSocket<TcpStream>,
    next_id: u64,
    /// Events read while waiting for a command's answer, not yet looked at.
    events: Vec<Value>,
    _profile: tempfile::TempDir,
}

impl Drop for Chromium {
    fn drop(&mut self) {
        // Asked to close, Chromium ends its own processes and removes its files in /tmp; it is
        // killed if it has not within a few seconds (or cannot be asked).
        self.next_id += 1;
        let close = json!({"id": self.next_id, "method": "Browser.close"});
        if self.socket.send(Message::text(close.to_string())).is_ok() {
            let deadline = Instant::now() + Duration::from_secs(5);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = self.child.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Chromium {
    fn launch() -> Option<Chromium> {
        let binary = chromium_binary()?;
        let profile = tempfile::tempdir().unwrap();
        let mut child = Command::new(binary)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                // Containers give /dev/shm 64 MiB: too little for a full-page screenshot.
                "--disable-dev-shm-usage",
                "--disable-quic",
                "--no-first-run",
                "--no-default-browser-check",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-extensions",
                "--hide-scrollbars",
                "--window-size=1100,900",
                "--remote-debugging-port=0",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg("about:blank")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Its stderr names the DevTools endpoint; the rest of it is drained (a full pipe would
        // stall the browser) and kept for the failure message.
        let stderr = child.stderr.take().unwrap();
        let (found, endpoint) = mpsc::channel();
        std::thread::spawn(move || {
            let mut said = Vec::new();
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(url) = line.strip_prefix("DevTools listening on ") {
                    let _ = found.send(Ok(url.trim().to_string()));
                }
                said.push(line);
            }
            let _ = found.send(Err(said.join("\n")));
        });
        let url = match endpoint.recv_timeout(STEP) {
            Ok(Ok(url)) => url,
            Ok(Err(said)) => {
                let _ = child.kill();
                panic!("chromium exited without a DevTools endpoint:\n{said}")
            }
            Err(_) => {
                let _ = child.kill();
                panic!("chromium did not name its DevTools endpoint in {STEP:?}")
            }
        };
        let address = url
            .strip_prefix("ws://")
            .and_then(|rest| rest.split('/').next())
            .unwrap_or_else(|| panic!("unexpected DevTools endpoint {url}"))
            .to_string();
        let stream = TcpStream::connect(&address).unwrap();
        stream.set_read_timeout(Some(STEP)).unwrap();
        let (mut socket, _) = tungstenite::client(url.as_str(), stream).unwrap();
        socket.set_config(|config| {
            // Full-page screenshots come back as one base64 message.
            config.max_message_size = None;
            config.max_frame_size = None;
        });
        Some(Chromium {
            child,
            socket,
            next_id: 0,
            events: Vec::new(),
            _profile: profile,
        })
    }

    fn read(&mut self) -> Value {
        loop {
            match self.socket.read() {
                Ok(Message::Text(text)) => return serde_json::from_str(text.as_str()).unwrap(),
                Ok(_) => continue,
                Err(error) => panic!("DevTools connection: {error}"),
            }
        }
    }

    /// Sends `method` (to the page `session`, or to the browser) and returns its result.
    fn call(&mut self, session: Option<&str>, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        let mut message = json!({"id": id, "method": method, "params": params});
        if let Some(session) = session {
            message["sessionId"] = json!(session);
        }
        self.socket
            .send(Message::text(message.to_string()))
            .unwrap();
        loop {
            let message = self.read();
            if message["id"] == id {
                if let Some(error) = message.get("error") {
                    panic!("{method}: {error}");
                }
                return message["result"].clone();
            }
            if message.get("method").is_some() {
                self.events.push(message);
            }
        }
    }

    /// Waits for the event `method` of `session`.
    fn wait_for(&mut self, session: &str, method: &str) {
        let seen = |event: &Value| event["method"] == method && event["sessionId"] == session;
        if self.events.iter().any(seen) {
            return;
        }
        loop {
            let message = self.read();
            let done = seen(&message);
            if message.get("method").is_some() {
                self.events.push(message);
            }
            if done {
                return;
            }
        }
    }

    /// Opens `path` in a new tab and returns what it showed: the value of `CHECKS`, what the
    /// page logged and asked for, and a full-page screenshot saved as `name`.png (and, for
    /// `dark`, `name`-dark.png in the dark theme).
    fn open(&mut self, path: &Path, name: &str, dark: bool) -> Page {
        let target = self.call(None, "Target.createTarget", json!({"url": "about:blank"}));
        let target = target["targetId"].as_str().unwrap().to_string();
        let attached = self.call(
            None,
            "Target.attachToTarget",
            json!({"targetId": target, "flatten": true}),
        );
        let session = attached["sessionId"].as_str().unwrap().to_string();
        let s = Some(session.as_str());
        for domain in ["Page", "Runtime", "Log", "Network"] {
            self.call(s, &format!("{domain}.enable"), json!({}));
        }
        let url = file_url(path);
        let navigated = self.call(s, "Page.navigate", json!({"url": url}));
        assert!(
            navigated.get("errorText").is_none(),
            "{url}: {}",
            navigated["errorText"]
        );
        self.wait_for(&session, "Page.loadEventFired");
        let checks = self.evaluate(&session, CHECKS);
        save_screenshot(&self.screenshot(&session), name);
        if dark {
            self.call(
                s,
                "Emulation.setEmulatedMedia",
                json!({"features": [{"name": "prefers-color-scheme", "value": "dark"}]}),
            );
            save_screenshot(&self.screenshot(&session), &format!("{name}-dark"));
        }
        // A last round trip, so that whatever the page did before it is among the events.
        self.evaluate(&session, "1");
        self.call(None, "Target.closeTarget", json!({"targetId": target}));
        let events: Vec<Value> = std::mem::take(&mut self.events)
            .into_iter()
            .filter(|event| event["sessionId"] == session.as_str())
            .collect();
        Page {
            url,
            checks,
            events,
        }
    }

    fn evaluate(&mut self, session: &str, expression: &str) -> Value {
        let result = self.call(
            Some(session),
            "Runtime.evaluate",
            json!({"expression": expression, "returnByValue": true}),
        );
        if let Some(exception) = result.get("exceptionDetails") {
            panic!("the checks threw: {exception}");
        }
        result["result"]["value"].clone()
    }

    /// A PNG of the whole page, not only the window.
    fn screenshot(&mut self, session: &str) -> Vec<u8> {
        let metrics = self.call(Some(session), "Page.getLayoutMetrics", json!({}));
        let size = &metrics["cssContentSize"];
        let shot = self.call(
            Some(session),
            "Page.captureScreenshot",
            json!({
                "format": "png",
                "captureBeyondViewport": true,
                "clip": {"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1},
            }),
        );
        base64_decode(shot["data"].as_str().unwrap())
    }
}

/// What a page showed and did.
struct Page {
    url: String,
    /// The value of `CHECKS`.
    checks: Value,
    /// The page's DevTools events.
    events: Vec<Value>,
}

impl Page {
    /// Console messages, exceptions and log entries at warning or error level; network requests
    /// other than the page's own file.
    fn complaints(&self) -> Vec<String> {
        let mut complaints = Vec::new();
        for event in &self.events {
            let params = &event["params"];
            match event["method"].as_str().unwrap_or("") {
                // The page has no script: any console call at all is one too many.
                "Runtime.consoleAPICalled" => {
                    complaints.push(format!("console.{}: {}", params["type"], params["args"]))
                }
                "Runtime.exceptionThrown" => {
                    complaints.push(format!("exception: {}", params["exceptionDetails"]))
                }
                "Log.entryAdded"
                    if matches!(params["entry"]["level"].as_str(), Some("error" | "warning")) =>
                {
                    complaints.push(format!(
                        "log {} ({}): {} {}",
                        params["entry"]["level"],
                        params["entry"]["source"],
                        params["entry"]["text"],
                        params["entry"]["url"]
                    ))
                }
                "Network.requestWillBeSent" if params["request"]["url"] != self.url.as_str() => {
                    complaints.push(format!("request: {}", params["request"]["url"]))
                }
                _ => {}
            }
        }
        complaints
    }
}

/// What the test reads from the page, as JSON: each chart and its data points, what was left
/// empty, and what a script or a resource would need (none of which the page may have).
const CHECKS: &str = r#"(() => {
  const inside = (box, view) => box.x >= view.x - 1 && box.y >= view.y - 1
    && box.x + box.width <= view.x + view.width + 1 && box.y + box.height <= view.y + view.height + 1;
  const charts = [...document.querySelectorAll('svg.chart')].map(svg => {
    const points = [...svg.querySelectorAll('[data-v]')];
    const view = svg.viewBox.baseVal;
    const rect = svg.getBoundingClientRect();
    // The plot: where the grid and the axes are (the flow graph has none).
    const frame = [...svg.querySelectorAll('line.grid, line.axis')].map(l => l.getBBox());
    const plot = frame.length === 0 ? view : {
      x: Math.min(...frame.map(b => b.x)), y: Math.min(...frame.map(b => b.y)),
      width: Math.max(...frame.map(b => b.x + b.width)) - Math.min(...frame.map(b => b.x)),
      height: Math.max(...frame.map(b => b.y + b.height)) - Math.min(...frame.map(b => b.y)),
    };
    const centre = b => ({x: b.x + b.width / 2, y: b.y + b.height / 2, width: 0, height: 0});
    return {
      id: svg.id,
      points: points.length,
      not_numbers: points.map(p => p.getAttribute('data-v')).filter(v => !Number.isFinite(Number(v))),
      outside: points.filter(p => !inside(p.getBBox(), view)).map(p => p.outerHTML.slice(0, 160)),
      off_plot: points.filter(p => !inside(centre(p.getBBox()), plot)).map(p => p.outerHTML.slice(0, 160)),
      duplicate_ticks: (ticks => ticks.filter((t, i) => ticks.indexOf(t) !== i))(
        [...svg.querySelectorAll('text.tick')].map(t => t.textContent)),
      nan_attributes: [...svg.querySelectorAll('*')].flatMap(e => [...e.attributes])
        .filter(a => /NaN|Infinity/.test(a.value)).map(a => a.name + '=' + a.value).slice(0, 5),
      width: rect.width,
      height: rect.height,
    };
  });
  const boxes = [...document.querySelectorAll('figure.chart-box')].map(box => ({
    id: box.id,
    svgs: box.querySelectorAll('svg.chart').length,
    empties: box.querySelectorAll('p.empty').length,
  }));
  const ids = [...document.querySelectorAll('[id]')].map(e => e.id);
  const attributes = [...document.querySelectorAll('*')].flatMap(e => [...e.attributes].map(a => a.name.toLowerCase()));
  return {
    title: document.title,
    charts,
    boxes,
    empties: [...document.querySelectorAll('p.empty')].map(p => p.textContent),
    duplicate_ids: ids.filter((id, i) => ids.indexOf(id) !== i),
    stylesheets: document.styleSheets.length,
    style_rules: [...document.styleSheets].reduce((n, sheet) => n + sheet.cssRules.length, 0),
    body_margin: getComputedStyle(document.body).marginTop,
    dangerous_elements: [...document.querySelectorAll('script, img, iframe, object, embed, link, base, form, a, audio, video, foreignObject, use, image, animate, set')]
      .map(e => e.outerHTML.slice(0, 200)),
    handler_attributes: attributes.filter(name => name.startsWith('on')),
    url_attributes: attributes.filter(name => ['href', 'xlink:href', 'src', 'srcdoc', 'action', 'formaction', 'data', 'poster'].includes(name)),
    pwned: typeof window.__pwned,
    text: document.body.innerText,
    titles: [...document.querySelectorAll('title')].map(t => t.textContent),
    codes: [...document.querySelectorAll('code')].map(c => c.textContent),
    legends: Object.fromEntries([...document.querySelectorAll('svg.chart')].map(svg => [svg.id,
      [...svg.querySelectorAll('rect.swatch')].map(r => [r.nextElementSibling.textContent, r.getAttribute('class')])])),
    problems: [...document.querySelectorAll('.problems li')].map(li => li.textContent),
  };
})()"#;

fn file_url(path: &Path) -> String {
    let path = path.canonicalize().unwrap();
    let mut url = String::from("file://");
    for byte in path.to_str().unwrap().bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'/' | b'-' | b'_' | b'.' | b'~' => {
                url.push(byte as char)
            }
            _ => url.push_str(&format!("%{byte:02X}")),
        }
    }
    url
}

fn screenshot_dir() -> PathBuf {
    // The test binary is target/<profile>/deps/report-<hash>: its target directory is three up
    // (CARGO_TARGET_DIR honoured).
    let exe = std::env::current_exe().unwrap();
    let target = exe
        .ancestors()
        .nth(3)
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target"));
    target.join("report-screenshots")
}

fn save_screenshot(png: &[u8], name: &str) {
    assert!(png.starts_with(b"\x89PNG"), "{name}: not a PNG");
    let dir = screenshot_dir();
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
}

fn base64_decode(text: &str) -> Vec<u8> {
    let value = |c: u8| match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        b'/' => 63,
        _ => panic!("not base64: {c}"),
    };
    let mut out = Vec::with_capacity(text.len() / 4 * 3);
    let (mut bits, mut count) = (0u32, 0);
    for c in text.bytes().filter(|&c| c != b'=') {
        bits = bits << 6 | value(c) as u32;
        count += 6;
        if count >= 8 {
            count -= 8;
            out.push((bits >> count) as u8);
        }
    }
    out
}

/// `flowtrace report ARGS -o DIR/NAME.html`, which must succeed; the page's path.
fn report(dir: &Path, name: &str, args: &[&str]) -> PathBuf {
    report_exiting(dir, name, args, 0)
}

/// `report`, exiting with `code` (1: the page was written, but from an incomplete read).
fn report_exiting(dir: &Path, name: &str, args: &[&str], code: i32) -> PathBuf {
    let path = dir.join(format!("{name}.html"));
    let output = flowtrace()
        .arg("report")
        .args(args)
        .arg("-o")
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(code),
        "flowtrace report {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    path
}

/// The charts of an incident page, in the order it shows them.
const INCIDENT_CHARTS: [&str; 6] = [
    "graph",
    "queues",
    "failures",
    "throughput",
    "latency",
    "workers",
];

/// Opens the page and checks what every page must be: silent, offline, each chart with data
/// points inside its plot, each chart box drawn or said empty; and that the charts `expected`
/// are drawn. Returns the checks' values for more.
fn check_page(browser: &mut Chromium, path: &Path, name: &str, expected: &[&str]) -> Value {
    let page = browser.open(path, name, false);
    check_opened(&page, name, expected);
    page.checks
}

fn check_opened(page: &Page, name: &str, expected: &[&str]) {
    let checks = &page.checks;
    let complaints = page.complaints();
    assert!(complaints.is_empty(), "{name}: {complaints:#?}");
    assert_eq!(checks["pwned"], "undefined", "{name}: a script ran");
    for key in ["dangerous_elements", "handler_attributes", "url_attributes"] {
        assert_eq!(checks[key], json!([]), "{name}: {key}");
    }
    assert_eq!(checks["duplicate_ids"], json!([]), "{name}: ids used twice");
    // The stylesheet is whole (nothing in the page closed it early) and applies.
    assert_eq!(checks["stylesheets"], 1, "{name}");
    assert!(
        checks["style_rules"].as_u64().unwrap() > 50,
        "{name}: {}",
        checks["style_rules"]
    );
    assert_eq!(
        checks["body_margin"], "0px",
        "{name}: the stylesheet does not apply"
    );

    let charts = checks["charts"].as_array().unwrap();
    for chart in charts {
        let id = chart["id"].as_str().unwrap();
        assert!(
            chart["points"].as_u64().unwrap() > 0,
            "{name}: chart {id} has no data point"
        );
        assert_eq!(chart["not_numbers"], json!([]), "{name}: chart {id} data-v");
        assert_eq!(
            chart["outside"],
            json!([]),
            "{name}: chart {id} has points outside its drawing"
        );
        assert_eq!(
            chart["off_plot"],
            json!([]),
            "{name}: chart {id} has points off its plot (outside its axes)"
        );
        assert_eq!(chart["nan_attributes"], json!([]), "{name}: chart {id}");
        assert_eq!(
            chart["duplicate_ticks"],
            json!([]),
            "{name}: chart {id} labels two ticks the same"
        );
        assert!(
            chart["width"].as_f64().unwrap() > 300.0 && chart["height"].as_f64().unwrap() > 40.0,
            "{name}: chart {id} is drawn {}x{}",
            chart["width"],
            chart["height"]
        );
    }
    for chart_box in checks["boxes"].as_array().unwrap() {
        assert_eq!(
            chart_box["svgs"].as_u64().unwrap() + chart_box["empties"].as_u64().unwrap(),
            1,
            "{name}: {chart_box} is neither a chart nor said empty"
        );
    }
    // A node keeps its colour from the queue chart to the throughput chart below it.
    let legends = &checks["legends"];
    for entry in legends["queues"].as_array().into_iter().flatten() {
        if let Some(other) = legends["throughput"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|other| other[0] == entry[0])
        {
            assert_eq!(entry[1], other[1], "{name}: {} changes colour", entry[0]);
        }
    }
    let drawn: Vec<&str> = charts.iter().map(|c| c["id"].as_str().unwrap()).collect();
    for id in expected {
        assert!(
            drawn.contains(id),
            "{name}: no chart #{id} (drawn: {drawn:?}; empty: {})",
            checks["empties"]
        );
    }
}

/// The browser, or `None` when these tests are skipped.
fn browser() -> Option<Chromium> {
    Chromium::launch()
}

#[test]
fn every_fixture_report_opens_offline_and_silent_with_its_charts() {
    let Some(mut browser) = browser() else { return };
    let dir = tempfile::tempdir().unwrap();
    let store = fixture_arg("incident/events.db");
    let cases: Vec<(&str, Vec<String>, usize)> = vec![
        // (name, arguments, worst traces drawn)
        ("incident", vec![fixture_arg("incident/flat.jsonl")], 3),
        (
            "incident-kubectl",
            vec![fixture_arg("incident/kubectl_prefix_timestamps.log")],
            3,
        ),
        ("incident-store", vec!["--store".into(), store], 3),
        ("production", vec![fixture_arg("production/flat.log.gz")], 5),
        (
            "chain_incident",
            vec![fixture_arg("topologies/chain_incident/flat.jsonl")],
            5,
        ),
        ("cycle", vec![fixture_arg("topologies/cycle/flat.jsonl")], 1),
        (
            "emit_fanout",
            vec![fixture_arg("topologies/emit_fanout/flat.jsonl")],
            1,
        ),
        ("join", vec![fixture_arg("topologies/join/flat.jsonl")], 1),
        (
            "router",
            vec![fixture_arg("topologies/router/flat.jsonl")],
            2,
        ),
    ];
    for (name, args, worst) in cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let path = report(dir.path(), name, &args);
        // Every committed fixture has failures, queues and successes: every chart is drawn,
        // and each worst trace has its waterfall.
        let mut expected: Vec<String> = INCIDENT_CHARTS.iter().map(|s| s.to_string()).collect();
        expected.extend((0..worst).map(|i| format!("trace-{i}")));
        let expected: Vec<&str> = expected.iter().map(String::as_str).collect();
        let page = browser.open(&path, name, name == "incident");
        check_opened(&page, name, &expected);
        assert_eq!(
            page.checks["charts"].as_array().unwrap().len(),
            expected.len(),
            "{name}: more charts than expected"
        );
        assert_eq!(page.checks["empties"], json!([]), "{name}");
        // The capture's own exception text carries an API key, a bearer token and a password.
        let html = std::fs::read_to_string(&path).unwrap();
        for secret in [
            "4f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c",
            "c2lnbmF0dXJl",
            "hunter2",
        ] {
            assert!(!html.contains(secret), "{name}: {secret} is in the page");
        }
    }
}

#[test]
fn one_trace_report_shows_its_waterfall() {
    let Some(mut browser) = browser() else { return };
    let dir = tempfile::tempdir().unwrap();
    let id = trace_of("timeout_failed");
    let path = report(
        dir.path(),
        "trace",
        &["--trace", &id, &fixture_arg("incident/flat.jsonl")],
    );
    let checks = check_page(&mut browser, &path, "trace-timeout_failed", &["trace-0"]);
    assert_eq!(checks["charts"].as_array().unwrap().len(), 1);
    let text = checks["text"].as_str().unwrap();
    assert!(text.contains(&id), "{text}");
    assert!(text.contains("status failed"), "{text}");
}

/// The checks can fail: a page that runs a script, logs, throws, asks the network for more and
/// draws a chart without data is refused on each count. (Without this, a DevTools domain not
/// enabled or an event misread would let every page pass.)
#[test]
fn the_browser_checks_see_what_they_must_refuse() {
    let Some(mut browser) = browser() else { return };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.html");
    std::fs::write(
        &path,
        r#"<!DOCTYPE html><html><head><title>bad</title></head><body>
<svg class="chart" id="nothing" viewBox="0 0 10 10"><rect width="5" height="5"/></svg>
<svg class="chart" id="astray" viewBox="0 0 100 100"><line class="grid" x1="20" x2="90" y1="10" y2="10"/><line class="axis" x1="20" x2="90" y1="80" y2="80"/><circle cx="5" cy="50" r="2" data-v="1"/></svg>
<img src="http://127.0.0.1:9/pixel.png" onerror="window.__pwned = 1">
<script>console.warn("a warning"); fetch("http://127.0.0.1:9/data").catch(() => {}); throw new Error("boom");</script>
</body></html>"#,
    )
    .unwrap();
    let page = browser.open(&path, "harness-self-test", false);
    let complaints = page.complaints().join("\n");
    for expected in [
        "console.\"warning\"",
        "exception:",
        "request: \"http://127.0.0.1:9/pixel.png\"",
        "request: \"http://127.0.0.1:9/data\"",
        "log \"error\"",
    ] {
        assert!(
            complaints.contains(expected),
            "{expected} in:\n{complaints}"
        );
    }
    let checks = &page.checks;
    assert_eq!(checks["pwned"], "number");
    assert_eq!(checks["handler_attributes"], json!(["onerror"]));
    assert_eq!(checks["url_attributes"], json!(["src"]));
    assert_eq!(checks["dangerous_elements"].as_array().unwrap().len(), 2);
    assert_eq!(checks["charts"][0]["points"], 0);
    assert_eq!(checks["charts"][1]["off_plot"].as_array().unwrap().len(), 1);
    let failed = std::panic::catch_unwind(|| check_opened(&page, "bad", &[])).is_err();
    assert!(failed, "check_opened passed a bad page");
}

/// The hostile fixture's payloads (fixtures/hostile/make.py): in node names, trace ids, tenants
/// and exception text, each must be shown as the text it is.
const PAYLOADS: [&str; 6] = [
    "<script>window.__pwned=1</script>",
    "\"><img src=x onerror=window.__pwned=1>",
    "</style><svg onload=window.__pwned=1>]]>",
    "{{ 7*7 }} {% raw %}",
    "javascript:window.__pwned=1//]]></style>",
    "<foreignObject><iframe src=\"javascript:window.__pwned=1\"></iframe></foreignObject>",
];

/// The secrets in the hostile fixture's exception text.
const SECRETS: [&str; 3] = [
    "Hostile-Pass-42",
    "Zq8Xw2Lm4Nv6Rt1Yu3Io",
    "pa55-W0rd-hostile",
];

/// The page's text without the line breaks a table or a list puts between its cells.
fn text_of(checks: &Value) -> String {
    checks["text"].as_str().unwrap().replace(['\n', '\t'], " ")
}

fn assert_no_secret(path: &Path) {
    let html = std::fs::read_to_string(path).unwrap();
    for secret in SECRETS {
        assert!(!html.contains(secret), "{secret} is in {}", path.display());
    }
}

#[test]
fn hostile_text_is_shown_never_run_and_secrets_are_masked() {
    let Some(mut browser) = browser() else { return };
    let dir = tempfile::tempdir().unwrap();
    // Input names are text from outside too: the footer lists them, and an input that cannot
    // be read whole (a gzip cut short) is named in the page's warning.
    let named = dir
        .path()
        .join("\"><img src=x onerror=window.__pwned=1>.jsonl");
    std::fs::copy(fixture("hostile/report.jsonl"), &named).unwrap();
    let cut = dir.path().join("<svg onload=window.__pwned=1>.log.gz");
    let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut gzip, &std::fs::read(&named).unwrap()).unwrap();
    let gzip = gzip.finish().unwrap();
    std::fs::write(&cut, &gzip[..gzip.len() / 2]).unwrap();
    let path = report_exiting(
        dir.path(),
        "hostile",
        &[named.to_str().unwrap(), cut.to_str().unwrap()],
        1,
    );
    // Four worst traces: failed (error), failed (timeout), deadline_skipped, in_flight.
    let mut expected = INCIDENT_CHARTS.to_vec();
    expected.extend(["trace-0", "trace-1", "trace-2", "trace-3"]);
    let checks = check_page(&mut browser, &path, "hostile", &expected);
    assert_no_secret(&path);

    let text = text_of(&checks);
    for payload in PAYLOADS {
        assert!(text.contains(payload), "{payload} is not shown as text");
    }
    // Tenants as table cells, each exactly as logged (no template ran on them: not 49).
    let codes: Vec<&str> = checks["codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    for tenant in [
        "<script>window.__pwned=1</script>",
        "{{ 7*7 }}",
        "\"><img src=x onerror=window.__pwned=1>",
    ] {
        assert!(codes.contains(&tenant), "tenant {tenant} not in {codes:?}");
    }
    assert!(!codes.contains(&"49"), "{codes:?}");
    // Worst traces under their hostile ids, and the inputs under their hostile names.
    for trace in [
        "<script>window.__pwned=1</script>",
        "\"><img src=x onerror=window.__pwned=1>",
        "javascript:window.__pwned=1//]]></style>",
    ] {
        assert!(codes.contains(&trace), "trace {trace} not in {codes:?}");
    }
    // The command under each worst trace, pasted into a shell, shows that trace.
    let commands: Vec<&str> = codes
        .iter()
        .filter_map(|code| code.strip_prefix("flowtrace find "))
        .collect();
    assert_eq!(commands.len(), 4, "{codes:?}");
    let mut found = Vec::new();
    for command in commands {
        let output = Command::new("sh")
            .arg("-c")
            .arg(format!(
                "\"$FLOWTRACE\" find {command} \"$INPUT\" --format json --quiet"
            ))
            .env("FLOWTRACE", env!("CARGO_BIN_EXE_flowtrace"))
            .env("INPUT", fixture("hostile/report.jsonl"))
            .current_dir(dir.path())
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "flowtrace find {command}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let shown: Value = serde_json::from_slice(&output.stdout).unwrap();
        found.push(shown["trace_id"].as_str().unwrap().to_string());
    }
    found.sort();
    assert_eq!(
        found,
        [
            "\"><img src=x onerror=window.__pwned=1>",
            "535fa080-in-flight",
            "<script>window.__pwned=1</script>",
            "javascript:window.__pwned=1//]]></style>",
        ]
    );
    for input in [&named, &cut] {
        let input = input.display().to_string();
        assert!(codes.contains(&input.as_str()), "{input} not in {codes:?}");
    }
    let problems = checks["problems"].to_string();
    assert!(
        problems.contains("<svg onload=window.__pwned=1>.log.gz"),
        "{problems}"
    );
    // Node names inside the SVG (tooltips are <title> text): whole, as text.
    let titles = checks["titles"].to_string();
    for node in [
        PAYLOADS[0],
        PAYLOADS[1],
        PAYLOADS[2],
        PAYLOADS[3],
        PAYLOADS[5],
    ] {
        let shown = serde_json::to_string(&format!("{node}: ")).unwrap();
        assert!(
            titles.contains(shown.trim_end_matches('"')),
            "no tooltip for node {node} in {titles}"
        );
    }
}

#[test]
fn hostile_one_trace_report_shows_its_id_and_exception_as_text() {
    let Some(mut browser) = browser() else { return };
    let dir = tempfile::tempdir().unwrap();
    let id = "<script>window.__pwned=1</script>";
    let hostile = fixture_arg("hostile/report.jsonl");
    let path = report(dir.path(), "hostile-trace", &["--trace", id, &hostile]);
    let checks = check_page(&mut browser, &path, "hostile-trace", &["trace-0"]);
    assert_no_secret(&path);
    assert_eq!(checks["title"], format!("Trace {id}"));
    assert_eq!(checks["codes"][0], id, "the heading");
    let text = text_of(&checks);
    // find's verdict: the next node and its exception, masked, then cut to 120 characters.
    assert!(
        text.contains(
            "next node: </style><svg onload=window.__pwned=1>]]>: NODE_EXCEPTION; ValueError: \
             rejected password=*** api_key=sk-proj-*** https://u:***@db/x \
             <script>window.__pwned=1</script>"
        ),
        "{text}"
    );
    // Unmasked on request, the same page does carry the secrets: masking is what kept them out.
    let unmasked = report(
        dir.path(),
        "hostile-trace-unmasked",
        &["--trace", id, &hostile, "--no-redact"],
    );
    let html = std::fs::read_to_string(&unmasked).unwrap();
    assert!(SECRETS.iter().all(|secret| html.contains(secret)));
}

/// A flow that names its nodes per request (lint's PF004): the page draws the busiest
/// `MAX_DRAWN_NODES` and says how many it left out, rather than weighing a hundred megabytes.
#[test]
fn a_flow_of_generated_node_names_is_drawn_in_part_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("generated.jsonl");
    let mut lines = String::new();
    for trace in 0..300 {
        let mut ts = 1_796_159_252.0 + f64::from(trace) * 0.05;
        for node in [
            "ingest".to_string(),
            format!("plan-{trace:04}"),
            format!("tool-{trace:04}"),
            "reply".to_string(),
        ] {
            for (event, latency) in [("node_start", 0.0), ("node_success", 4.0)] {
                lines += &format!(
                    "{{\"trace_id\": \"{:032x}\", \"node_name\": \"{node}\", \"event\": \"{event}\", \"ts\": {ts}, \"latency_ms\": {latency}, \"q_depth_in\": 0, \"q_depth_out\": 0}}\n",
                    trace + 1
                );
                ts += 0.004;
            }
        }
    }
    std::fs::write(&log, lines).unwrap();
    let path = report(dir.path(), "generated", &[log.to_str().unwrap()]);
    let html = std::fs::read_to_string(&path).unwrap();
    assert!(html.len() < 1_000_000, "{} bytes", html.len());
    assert!(
        html.contains("The 40 busiest of 604 nodes are drawn"),
        "the flow graph's caption says what it left out"
    );
    assert!(
        html.contains("The 40 busiest of 602 nodes are drawn"),
        "the per-node charts say it too"
    );
    let Some(mut browser) = browser() else { return };
    let page = browser.open(&path, "generated", false);
    check_opened(
        &page,
        "generated",
        &["graph", "throughput", "latency", "workers"],
    );
}
