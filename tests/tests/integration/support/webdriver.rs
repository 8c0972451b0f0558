//! Headless Chromium for end-to-end tests, driven through chromedriver's W3C WebDriver HTTP
//! API with the `reqwest` client the tests already have.
//!
//! Each [`Browser`] starts its own chromedriver on a free port (in a process group of its
//! own, with a fresh Chromium profile) and ends both when dropped — also when the test
//! panics. Waits poll every 50 ms up to an explicit limit; one that runs out saves a
//! screenshot and panics with the page's address, text and console.
#![allow(dead_code)]

use std::future::Future;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

/// The W3C key under which an element reference travels.
pub const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";
/// How often waits poll.
pub const POLL: Duration = Duration::from_millis(50);
/// The default bound for a wait: generous, because the suite runs on two busy cores.
pub const WAIT: Duration = Duration::from_secs(30);

/// The Escape key, for [`Browser::press`] (WebDriver's code point for it).
pub const ESCAPE: &str = "\u{E00C}";

pub const CHROMIUM: &str = "/usr/bin/chromium";
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// Flags that work for headless Chromium as root in a container.
pub const CHROMIUM_ARGS: &[&str] = &[
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
];

/// Where screenshots go: `<workspace>/test-artifacts` (git-ignored).
pub fn artifacts_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("test-artifacts");
    std::fs::create_dir_all(&dir).expect("create test-artifacts/");
    dir.canonicalize().unwrap_or(dir)
}

/// An element the browser handed out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Element(pub String);

impl Element {
    /// The JSON form scripts receive it as (an argument that is the DOM element).
    pub fn arg(&self) -> Value {
        json!({ ELEMENT_KEY: self.0 })
    }
}

/// What a browser window is opened with.
#[derive(Clone, Debug)]
pub struct Options {
    /// Names failure screenshots (`<name>-timeout.png`).
    pub name: String,
    pub width: u32,
    pub height: u32,
}

impl Options {
    pub fn new(name: &str) -> Options {
        Options {
            name: name.to_string(),
            width: 1280,
            height: 900,
        }
    }

    pub fn size(mut self, width: u32, height: u32) -> Options {
        self.width = width;
        self.height = height;
        self
    }
}

/// One chromedriver process and one browser session on it.
pub struct Browser {
    http: reqwest::Client,
    /// `http://127.0.0.1:<port>` of chromedriver.
    driver_url: String,
    port: u16,
    session: String,
    driver: Child,
    profile: PathBuf,
    name: String,
}

/// A port that was free a moment ago.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

impl Browser {
    /// Starts chromedriver and opens a browser window; panics with chromedriver's log if
    /// either fails.
    pub async fn start(options: Options) -> Browser {
        let mut last_error = String::new();
        // A port can be lost to a race between finding it free and chromedriver binding it.
        for _ in 0..3 {
            match Browser::try_start(&options).await {
                Ok(browser) => return browser,
                Err(error) => last_error = error,
            }
        }
        panic!("could not start headless Chromium through chromedriver: {last_error}");
    }

    async fn try_start(options: &Options) -> Result<Browser, String> {
        for program in [CHROMIUM, CHROMEDRIVER] {
            if !std::path::Path::new(program).exists() {
                return Err(format!(
                    "{program} is missing (apt-get install chromium chromium-driver)"
                ));
            }
        }
        let profile = std::env::temp_dir().join(format!(
            "caseyos-chromium-{}",
            uuid::Uuid::new_v4().simple()
        ));
        std::fs::create_dir_all(&profile).map_err(|e| e.to_string())?;
        let port = free_port();
        let log =
            std::fs::File::create(profile.join("chromedriver.log")).map_err(|e| e.to_string())?;
        let mut command = Command::new(CHROMEDRIVER);
        command
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::from(log));
        // A process group of its own, so dropping the browser ends Chromium too.
        std::os::unix::process::CommandExt::process_group(&mut command, 0);
        let driver = command
            .spawn()
            .map_err(|e| format!("start chromedriver: {e}"))?;
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(120))
            .build()
            .expect("an HTTP client");
        let mut browser = Browser {
            http,
            driver_url: format!("http://127.0.0.1:{port}"),
            port,
            session: String::new(),
            driver,
            profile,
            name: options.name.clone(),
        };
        // chromedriver answers /status once it listens.
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(Some(status)) = browser.driver.try_wait() {
                return Err(format!(
                    "chromedriver exited ({status}): {}",
                    browser.driver_log()
                ));
            }
            let ready = browser
                .http
                .get(format!("{}/status", browser.driver_url))
                .timeout(Duration::from_secs(2))
                .send()
                .await;
            if let Ok(response) = ready {
                let body: Value = response.json().await.unwrap_or_default();
                if body["value"]["ready"] == true {
                    break;
                }
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "chromedriver did not become ready within 30 s: {}",
                    browser.driver_log()
                ));
            }
            tokio::time::sleep(POLL).await;
        }
        let mut args: Vec<String> = CHROMIUM_ARGS.iter().map(|a| a.to_string()).collect();
        args.push(format!(
            "--user-data-dir={}",
            browser.profile.join("profile").display()
        ));
        args.push(format!(
            "--window-size={},{}",
            options.width, options.height
        ));
        let capabilities = json!({
            "capabilities": {
                "alwaysMatch": {
                    "browserName": "chrome",
                    "pageLoadStrategy": "normal",
                    "timeouts": {"script": 60_000, "pageLoad": 60_000, "implicit": 0},
                    "goog:chromeOptions": {"binary": CHROMIUM, "args": args},
                    "goog:loggingPrefs": {"browser": "ALL"}
                }
            }
        });
        let response = browser
            .http
            .post(format!("{}/session", browser.driver_url))
            .json(&capabilities)
            .send()
            .await
            .map_err(|e| format!("new session: {e}"))?;
        let status = response.status();
        let body: Value = response.json().await.unwrap_or_default();
        match body["value"]["sessionId"].as_str() {
            Some(id) if status.is_success() => browser.session = id.to_string(),
            _ => {
                return Err(format!(
                    "new session answered {status}: {body}; chromedriver: {}",
                    browser.driver_log()
                ))
            }
        }
        // The viewport must be what the test asked for, whatever the window decorations.
        browser.set_viewport(options.width, options.height).await;
        Ok(browser)
    }

    fn driver_log(&self) -> String {
        let text =
            std::fs::read_to_string(self.profile.join("chromedriver.log")).unwrap_or_default();
        let tail: Vec<&str> = text.lines().rev().take(40).collect();
        tail.into_iter().rev().collect::<Vec<_>>().join("\n")
    }

    /// One WebDriver command; returns its `value`, or panics with the error.
    pub async fn command(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        match self.try_command(method.clone(), path, body).await {
            Ok(value) => value,
            Err(error) => panic!("WebDriver {method} {path}: {error}"),
        }
    }

    /// One WebDriver command; an error names the WebDriver error and its message.
    pub async fn try_command(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value, String> {
        let url = format!("{}/session/{}{path}", self.driver_url, self.session);
        let mut request = self.http.request(method, url);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.map_err(|e| e.to_string())?;
        let status = response.status();
        let body: Value = response.json().await.map_err(|e| e.to_string())?;
        if status.is_success() {
            Ok(body["value"].clone())
        } else {
            Err(format!(
                "{status} {}: {}",
                body["value"]["error"].as_str().unwrap_or("?"),
                body["value"]["message"]
                    .as_str()
                    .unwrap_or_default()
                    .lines()
                    .next()
                    .unwrap_or_default()
            ))
        }
    }

    async fn post(&self, path: &str, body: Value) -> Value {
        self.command(reqwest::Method::POST, path, Some(body)).await
    }

    async fn get(&self, path: &str) -> Value {
        self.command(reqwest::Method::GET, path, None).await
    }

    /// Loads `url` and returns once the document has loaded.
    pub async fn goto(&self, url: &str) {
        self.post("/url", json!({ "url": url })).await;
    }

    pub async fn refresh(&self) {
        self.post("/refresh", json!({})).await;
    }

    pub async fn current_url(&self) -> String {
        self.get("/url")
            .await
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// The page's path and query (`/queue?x=1`).
    pub async fn path(&self) -> String {
        self.execute("return location.pathname + location.search", vec![])
            .await
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// Sets the window so that the viewport (`innerWidth` × `innerHeight`) is the size asked.
    pub async fn set_viewport(&self, width: u32, height: u32) {
        for _ in 0..3 {
            let inner = self
                .execute("return [window.innerWidth, window.innerHeight]", vec![])
                .await;
            let (w, h) = (
                inner[0].as_i64().unwrap_or(0),
                inner[1].as_i64().unwrap_or(0),
            );
            if (w, h) == (width as i64, height as i64) {
                return;
            }
            let rect = self.get("/window/rect").await;
            let outer_w = rect["width"].as_i64().unwrap_or(width as i64);
            let outer_h = rect["height"].as_i64().unwrap_or(height as i64);
            let target_w = if w > 0 {
                outer_w + (width as i64 - w)
            } else {
                width as i64
            };
            let target_h = if h > 0 {
                outer_h + (height as i64 - h)
            } else {
                height as i64
            };
            self.post(
                "/window/rect",
                json!({"width": target_w, "height": target_h}),
            )
            .await;
        }
    }

    /// Runs `script` (a function body; `arguments` holds `args`) and returns what it
    /// returns.
    pub async fn execute(&self, script: &str, args: Vec<Value>) -> Value {
        self.post("/execute/sync", json!({ "script": script, "args": args }))
            .await
    }

    /// Runs `script` with a callback as its last argument and returns what it is called
    /// with.
    pub async fn execute_async(&self, script: &str, args: Vec<Value>) -> Value {
        self.post("/execute/async", json!({ "script": script, "args": args }))
            .await
    }

    /// Every element found with a WebDriver locator strategy, in document order.
    async fn elements(&self, using: &str, value: &str) -> Vec<Element> {
        let found = self
            .post("/elements", json!({"using": using, "value": value}))
            .await;
        found
            .as_array()
            .map(|elements| {
                elements
                    .iter()
                    .filter_map(|e| e[ELEMENT_KEY].as_str())
                    .map(|id| Element(id.to_string()))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Every element matching a CSS selector, in document order.
    pub async fn find_all(&self, css: &str) -> Vec<Element> {
        self.elements("css selector", css).await
    }

    pub async fn find(&self, css: &str) -> Option<Element> {
        self.find_all(css).await.into_iter().next()
    }

    /// The first element matching an XPath expression.
    pub async fn find_xpath(&self, xpath: &str) -> Option<Element> {
        self.elements("xpath", xpath).await.into_iter().next()
    }

    pub async fn click(&self, element: &Element) {
        self.post(&format!("/element/{}/click", element.0), json!({}))
            .await;
    }

    /// The element's rendered text.
    pub async fn text(&self, element: &Element) -> String {
        self.get(&format!("/element/{}/text", element.0))
            .await
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// Rendered texts of every element matching `css`, read in one script.
    pub async fn texts(&self, css: &str) -> Vec<String> {
        let value = self
            .execute(
                "return Array.from(document.querySelectorAll(arguments[0])).map(e => e.innerText.trim())",
                vec![json!(css)],
            )
            .await;
        value
            .as_array()
            .map(|v| {
                v.iter()
                    .map(|t| t.as_str().unwrap_or_default().to_string())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Types `text` into an element (focusing it), key by key.
    pub async fn type_into(&self, element: &Element, text: &str) {
        self.post(
            &format!("/element/{}/value", element.0),
            json!({ "text": text }),
        )
        .await;
    }

    /// Presses and releases each character of `keys` on whatever has the focus.
    pub async fn press(&self, keys: &str) {
        let mut actions = Vec::new();
        for key in keys.chars() {
            actions.push(json!({"type": "keyDown", "value": key.to_string()}));
            actions.push(json!({"type": "keyUp", "value": key.to_string()}));
        }
        self.post(
            "/actions",
            json!({"actions": [{"type": "key", "id": "keyboard", "actions": actions}]}),
        )
        .await;
        self.command(reqwest::Method::DELETE, "/actions", None)
            .await;
    }

    /// The page as a PNG in `test-artifacts/<name>.png`; returns its path.
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        let encoded = self.get("/screenshot").await;
        let png =
            decode_base64(encoded.as_str().unwrap_or_default()).expect("the screenshot is base64");
        assert!(png.starts_with(b"\x89PNG"), "the screenshot is a PNG");
        let path = artifacts_dir().join(format!("{name}.png"));
        std::fs::write(&path, png).expect("write the screenshot");
        path
    }

    /// What the page logged to its console (since the last call).
    pub async fn console(&self) -> Vec<String> {
        let entries = self
            .try_command(
                reqwest::Method::POST,
                "/se/log",
                Some(json!({"type": "browser"})),
            )
            .await
            .unwrap_or_default();
        entries
            .as_array()
            .map(|entries| {
                entries
                    .iter()
                    .map(|e| {
                        format!(
                            "{} {}",
                            e["level"].as_str().unwrap_or_default(),
                            e["message"].as_str().unwrap_or_default()
                        )
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Polls `probe` every 50 ms until it gives a value; after `limit`, saves a screenshot
    /// and panics naming `what` and the page's state.
    pub async fn wait_until<T, F, Fut>(&self, what: &str, limit: Duration, mut probe: F) -> T
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Option<T>>,
    {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(value) = probe().await {
                return value;
            }
            if Instant::now() >= deadline {
                self.fail(&format!("waited {limit:?} for {what}")).await;
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Polls a script until it returns something truthy (not null, false, 0 or ""), and
    /// returns that.
    pub async fn wait_for_js(
        &self,
        what: &str,
        limit: Duration,
        script: &str,
        args: Vec<Value>,
    ) -> Value {
        self.wait_until(what, limit, || {
            let args = args.clone();
            async move {
                // A navigation in progress can make a script fail: poll again.
                let value = self
                    .try_command(
                        reqwest::Method::POST,
                        "/execute/sync",
                        Some(json!({ "script": script, "args": args })),
                    )
                    .await
                    .ok()?;
                truthy(&value).then_some(value)
            }
        })
        .await
    }

    /// Waits until an element matching `css` is visible, and returns it.
    pub async fn wait_for_visible(&self, css: &str, limit: Duration) -> Element {
        let found = self
            .wait_for_js(
                &format!("a visible `{css}`"),
                limit,
                "const e = Array.from(document.querySelectorAll(arguments[0]))
                    .find(e => e.checkVisibility() && e.getBoundingClientRect().height > 0);
                 return e || null;",
                vec![json!(css)],
            )
            .await;
        match found[ELEMENT_KEY].as_str() {
            Some(id) => Element(id.to_string()),
            None => panic!("`{css}`: the script returned {found}, not an element"),
        }
    }

    /// Waits until no element matches `css`.
    pub async fn wait_for_absent(&self, css: &str, limit: Duration) {
        self.wait_for_js(
            &format!("no `{css}` left"),
            limit,
            "return document.querySelector(arguments[0]) === null",
            vec![json!(css)],
        )
        .await;
    }

    /// Waits until the page's path (and query) satisfies `accept`.
    pub async fn wait_for_path(
        &self,
        what: &str,
        limit: Duration,
        accept: impl Fn(&str) -> bool,
    ) -> String {
        self.wait_until(what, limit, || async {
            let path = self
                .try_command(
                    reqwest::Method::POST,
                    "/execute/sync",
                    Some(
                        json!({"script": "return location.pathname + location.search", "args": []}),
                    ),
                )
                .await
                .ok()?;
            let path = path.as_str()?.to_string();
            accept(&path).then_some(path)
        })
        .await
    }

    /// Saves `<name>-failure.png` and panics with the page's address, text and console.
    pub async fn fail(&self, message: &str) -> ! {
        let shot = self
            .try_command(reqwest::Method::GET, "/screenshot", None)
            .await
            .ok()
            .and_then(|v| decode_base64(v.as_str()?))
            .map(|png| {
                let path = artifacts_dir().join(format!("{}-failure.png", self.name));
                std::fs::write(&path, png).ok();
                path.display().to_string()
            })
            .unwrap_or_else(|| "no screenshot".into());
        let page = self
            .try_command(
                reqwest::Method::POST,
                "/execute/sync",
                Some(json!({
                    "script": "return location.href + '\\n' + (document.body ? document.body.innerText : '')",
                    "args": []
                })),
            )
            .await
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        let page: String = page.chars().take(3000).collect();
        let console = self.console().await.join("\n");
        panic!("{message}\n--- page ({shot}):\n{page}\n--- console:\n{console}");
    }

    /// Ends the session (Chromium quits) and chromedriver.
    fn shut_down(&mut self) {
        if !self.session.is_empty() {
            // Drop cannot await: a plain blocking HTTP/1.1 request.
            let _ = delete_session(self.port, &self.session);
            self.session.clear();
        }
        // The whole process group: chromedriver and any Chromium it left behind.
        let group = format!("-{}", self.driver.id());
        let _ = Command::new("kill")
            .args(["-KILL", "--", &group])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        let _ = self.driver.kill();
        let _ = self.driver.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        self.shut_down();
    }
}

fn delete_session(port: u16, session: &str) -> std::io::Result<()> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    // Chromium normally quits within a second or two; this only guards against a hang.
    stream.set_read_timeout(Some(Duration::from_secs(20)))?;
    stream.set_write_timeout(Some(Duration::from_secs(5)))?;
    write!(
        stream,
        "DELETE /session/{session} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )?;
    // chromedriver keeps the connection open: read the headers and the body they announce.
    let mut answer = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let read = stream.read(&mut chunk)?;
        if read == 0 {
            return Ok(());
        }
        answer.extend_from_slice(&chunk[..read]);
        let Some(end) = answer.windows(4).position(|w| w == b"\r\n\r\n") else {
            continue;
        };
        let headers = String::from_utf8_lossy(&answer[..end]).to_ascii_lowercase();
        let length = headers
            .lines()
            .find_map(|l| l.strip_prefix("content-length:"))
            .and_then(|v| v.trim().parse::<usize>().ok())
            .unwrap_or(0);
        if answer.len() >= end + 4 + length {
            return Ok(());
        }
    }
}

/// JavaScript's truthiness for what a script returned.
pub fn truthy(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|n| n != 0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(_) | Value::Object(_) => true,
    }
}

/// Standard base64 (with or without padding), as WebDriver sends screenshots.
pub fn decode_base64(text: &str) -> Option<Vec<u8>> {
    fn sextet(c: u8) -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    }
    let bytes: Vec<u8> = text
        .bytes()
        .filter(|b| !b.is_ascii_whitespace() && *b != b'=')
        .collect();
    let mut out = Vec::with_capacity(bytes.len() * 3 / 4);
    for chunk in bytes.chunks(4) {
        let mut acc = 0u32;
        for (i, c) in chunk.iter().enumerate() {
            acc |= sextet(*c)? << (18 - 6 * i);
        }
        let n = match chunk.len() {
            4 => 3,
            3 => 2,
            2 => 1,
            _ => return None,
        };
        for i in 0..n {
            out.push((acc >> (16 - 8 * i)) as u8);
        }
    }
    Some(out)
}
