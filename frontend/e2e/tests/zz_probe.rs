// Temporary profiling probe (to be deleted).
use serde_json::{json, Value};
use sockscope_frontend_e2e::{at, pack_scenario, page_url, percentile, Browser};

#[test]
fn zz_probe() {
    let Some(base) = page_url("zz_probe") else { return };
    let browser = Browser::start(1280, 900).unwrap();
    let mut client =
        vec![json!({"call":"socket","as":"fd"}), json!({"call":"connect","fd":"fd","addr":"10.0.0.2:7000"})];
    let mut server = vec![
        json!({"call":"socket","as":"lfd"}),
        json!({"call":"bind","fd":"lfd","addr":"0.0.0.0:7000"}),
        json!({"call":"listen","fd":"lfd","backlog":5}),
        json!({"call":"accept","fd":"lfd","as":"cfd"}),
    ];
    for _ in 0..3400 {
        client.push(json!({"call":"send","fd":"fd","len":100}));
        client.push(json!({"call":"recv","fd":"fd","len":100}));
        server.push(json!({"call":"recv","fd":"cfd","len":100}));
        server.push(json!({"call":"send","fd":"cfd","len":100}));
    }
    let scenario = json!({"name":"p","title":"p","hosts":[{"name":"client","addr":"10.0.0.1"},{"name":"server","addr":"10.0.0.2"}],"processes":[{"name":"server","host":"server","steps":server},{"name":"client","host":"client","steps":client}]});
    browser.open(&at(&base, &format!("?t=0#scenario={}", pack_scenario(&scenario.to_string())))).unwrap();
    let len = browser.trace_len().unwrap();
    println!("{}", browser.run("const u = location.href; const t0 = performance.now(); for (let i = 0; i < 10; i++) history.replaceState(null, '', u); const t1 = performance.now(); const s = location.pathname + '?t=5'; for (let i = 0; i < 10; i++) history.replaceState(null, '', s); const t2 = performance.now(); history.replaceState(null, '', u); return [u.length, (t1 - t0) / 10, (t2 - t1) / 10]", json!([])).unwrap());
    let mut state: u64 = 0x5eed_5eed;
    let targets: Vec<usize> = (0..100)
        .map(|_| {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (state >> 33) as usize % (len + 1)
        })
        .collect();
    browser.cdp("Profiler.enable", json!({})).unwrap();
    browser.cdp("Profiler.setSamplingInterval", json!({"interval": 100})).unwrap();
    browser.cdp("Profiler.start", json!({})).unwrap();
    let r = browser.run_async("const targets = arguments[0], done = arguments[arguments.length - 1];
         const input = document.querySelector('[data-testid=scrubber]');
         const setValue = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value').set;
         (async () => { const render = [], layout = [];
           for (const t of targets) { const s = performance.now();
             setValue.call(input, String(t)); input.dispatchEvent(new Event('input', { bubbles: true }));
             for (let i = 0; i < 5; i++) await Promise.resolve();
             const m = performance.now(); void document.body.offsetHeight; const e = performance.now();
             render.push(m - s); layout.push(e - m);
             await new Promise(r => setTimeout(r, 0)); }
           done({ render, layout, ok: document.querySelector('[data-testid=position]').getAttribute('data-cursor') == String(targets[targets.length-1]), n: document.getElementsByTagName('*').length }); })();", json!([targets])).unwrap();
    let profile = browser.cdp("Profiler.stop", json!({})).unwrap();
    std::fs::write("/tmp/probe/profile.json", profile.to_string()).unwrap();
    for k in ["render", "layout"] {
        let mut v: Vec<f64> = r[k].as_array().unwrap().iter().filter_map(Value::as_f64).collect();
        v.sort_by(f64::total_cmp);
        println!(
            "{k}: p50 {:.1} p95 {:.1} p99 {:.1}",
            percentile(&v, 50.0),
            percentile(&v, 95.0),
            percentile(&v, 99.0)
        );
    }
    println!("ok {} elements {}", r["ok"], r["n"]);
}
