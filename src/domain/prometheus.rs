//! The Prometheus text exposition format (version 0.0.4): metric families
//! with HELP and TYPE lines, escaped label values, and cumulative histograms.

use std::fmt::Write;

/// Latency buckets of HTTP requests, in seconds.
pub const HTTP_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];
/// Duration buckets of tasks, in seconds.
pub const TASK_BUCKETS: &[f64] = &[0.1, 0.5, 1.0, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0];

/// A text document being written; families must not repeat.
#[derive(Default)]
pub struct Exposition {
    out: String,
}

impl Exposition {
    /// Starts a family: `kind` is `counter`, `gauge` or `histogram`.
    pub fn family(&mut self, name: &str, kind: &str, help: &str) {
        let help = help.replace('\\', "\\\\").replace('\n', "\\n");
        let _ = writeln!(self.out, "# HELP {name} {help}\n# TYPE {name} {kind}");
    }

    pub fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: f64) {
        self.out.push_str(name);
        write_labels(&mut self.out, labels);
        self.out.push(' ');
        self.out.push_str(&number(value));
        self.out.push('\n');
    }

    /// A family of one unlabelled gauge.
    pub fn gauge(&mut self, name: &str, help: &str, value: f64) {
        self.family(name, "gauge", help);
        self.sample(name, &[], value);
    }

    pub fn finish(self) -> String {
        self.out
    }
}

fn write_labels(out: &mut String, labels: &[(&str, &str)]) {
    if labels.is_empty() {
        return;
    }
    out.push('{');
    for (i, (k, v)) in labels.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(k);
        out.push_str("=\"");
        for c in v.chars() {
            match c {
                '\\' => out.push_str("\\\\"),
                '"' => out.push_str("\\\""),
                '\n' => out.push_str("\\n"),
                c => out.push(c),
            }
        }
        out.push('"');
    }
    out.push('}');
}

/// A sample value: integers without a fraction, and the spellings the
/// format uses for infinities and NaN.
pub fn number(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v == f64::INFINITY {
        "+Inf".into()
    } else if v == f64::NEG_INFINITY {
        "-Inf".into()
    } else if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

/// A histogram over fixed bucket bounds (counts per bucket, not yet
/// cumulative), with its sum and count.
#[derive(Clone, Debug, PartialEq)]
pub struct Histogram {
    bounds: &'static [f64],
    counts: Vec<u64>,
    pub sum: f64,
    pub count: u64,
}

impl Histogram {
    pub fn new(bounds: &'static [f64]) -> Histogram {
        Histogram {
            bounds,
            counts: vec![0; bounds.len()],
            sum: 0.0,
            count: 0,
        }
    }

    pub fn observe(&mut self, v: f64) {
        if let Some(i) = self.bounds.iter().position(|b| v <= *b) {
            self.counts[i] += 1;
        }
        self.sum += v;
        self.count += 1;
    }

    /// Writes `<name>_bucket` (cumulative, ending with `+Inf`), `_sum` and
    /// `_count` with `labels` on each.
    pub fn write(&self, e: &mut Exposition, name: &str, labels: &[(&str, &str)]) {
        let bucket = format!("{name}_bucket");
        let mut running = 0;
        let les: Vec<String> = self.bounds.iter().map(|b| number(*b)).collect();
        let les = les.iter().map(String::as_str).chain(["+Inf"]);
        let counts = self.counts.iter().copied().chain([0]);
        for (le, n) in les.zip(counts) {
            running += n;
            let mut with_le = labels.to_vec();
            with_le.push(("le", le));
            let v = if le == "+Inf" { self.count } else { running };
            e.sample(&bucket, &with_le, v as f64);
        }
        e.sample(&format!("{name}_sum"), labels, self.sum);
        e.sample(&format!("{name}_count"), labels, self.count as f64);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families_samples_and_escaping() {
        let mut e = Exposition::default();
        e.family("vdi_x", "gauge", "A figure\nwith a line");
        e.sample("vdi_x", &[("node", "a\"b\\c\nd"), ("k", "v")], 1.5);
        e.gauge("vdi_y", "Plain.", 3.0);
        let text = e.finish();
        assert_eq!(
            text,
            "# HELP vdi_x A figure\\nwith a line\n# TYPE vdi_x gauge\n\
             vdi_x{node=\"a\\\"b\\\\c\\nd\",k=\"v\"} 1.5\n\
             # HELP vdi_y Plain.\n# TYPE vdi_y gauge\nvdi_y 3\n"
        );
        assert_eq!(number(f64::NAN), "NaN");
        assert_eq!(number(f64::INFINITY), "+Inf");
        assert_eq!(number(1e20), "100000000000000000000");
    }

    #[test]
    fn histogram_buckets_are_cumulative() {
        let mut h = Histogram::new(&[0.1, 1.0]);
        for v in [0.05, 0.5, 0.7, 30.0] {
            h.observe(v);
        }
        let mut e = Exposition::default();
        h.write(&mut e, "d", &[("route", "r")]);
        let text = e.finish();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines,
            [
                "d_bucket{route=\"r\",le=\"0.1\"} 1",
                "d_bucket{route=\"r\",le=\"1\"} 3",
                "d_bucket{route=\"r\",le=\"+Inf\"} 4",
                "d_sum{route=\"r\"} 31.25",
                "d_count{route=\"r\"} 4",
            ]
        );
    }
}
