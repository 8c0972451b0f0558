//! `/metrics` label cardinality: whatever methods and paths clients send, the request
//! families keep a bounded set of series (standard methods or `other`; route templates or
//! `unmatched`).

use caseyos_tests::spawn_app;
use reqwest::Method;

#[tokio::test]
async fn custom_methods_and_unknown_paths_share_one_other_and_one_unmatched_series() {
    let app = spawn_app().await;
    for n in 0..5 {
        for path in [
            "/health",
            "/api/queue",
            "/api/nothing-here",
            "/no/such/page",
        ] {
            let method = Method::from_bytes(format!("BAR{n}").as_bytes()).unwrap();
            app.request(method, path, Some(&app.admin))
                .send()
                .await
                .expect("send");
        }
        let method = Method::from_bytes(b"FOO").unwrap();
        app.request(method, &format!("/nowhere/{n}"), Some(&app.admin))
            .send()
            .await
            .expect("send");
        app.get(&format!("/api/unknown/{n}"), &app.admin)
            .send()
            .await
            .expect("send");
    }
    let text = app.metrics_text().await;
    let series: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("caseyos_http_requests_total{"))
        .collect();
    for name in ["FOO", "BAR0", "BAR1", "BAR4"] {
        assert!(
            !text.contains(&format!("method=\"{name}\"")),
            "`{name}` became a label:\n{}",
            series.join("\n")
        );
    }
    for raw in [
        "/nowhere/",
        "/api/unknown/",
        "/no/such/page",
        "/api/nothing-here",
    ] {
        assert!(
            !text.contains(raw),
            "the raw path `{raw}` became a label:\n{}",
            series.join("\n")
        );
    }
    let unmatched: Vec<&&str> = series
        .iter()
        .filter(|l| l.contains("route=\"unmatched\""))
        .collect();
    // Every unknown path, whatever its method, is one route; its methods are GET and other.
    assert!(
        unmatched
            .iter()
            .all(|l| l.contains("method=\"GET\"") || l.contains("method=\"other\"")),
        "{unmatched:#?}"
    );
    let other_unmatched: Vec<&&&str> = unmatched
        .iter()
        .filter(|l| l.contains("method=\"other\""))
        .collect();
    assert_eq!(other_unmatched.len(), 1, "{}", series.join("\n"));
    assert!(
        other_unmatched[0].ends_with(" 15"),
        "five FOO and ten BARn requests to unknown paths: {}",
        series.join("\n")
    );
    let get_unmatched: Vec<&&&str> = unmatched
        .iter()
        .filter(|l| l.contains("method=\"GET\""))
        .collect();
    assert_eq!(get_unmatched.len(), 1, "{}", series.join("\n"));
    // A custom method on a real route counts under that route as `other`.
    for route in ["/health", "/api/queue"] {
        let on_route: Vec<&&str> = series
            .iter()
            .filter(|l| l.contains(&format!("route=\"{route}\"")) && l.contains("method=\"other\""))
            .collect();
        assert_eq!(on_route.len(), 1, "{route}: {}", series.join("\n"));
        assert!(on_route[0].ends_with(" 5"), "{}", on_route[0]);
    }
}
