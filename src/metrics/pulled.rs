//! Collectors whose values are read at scrape time from state kept elsewhere.

use std::collections::HashMap;

use prometheus::core::{Collector, Desc};
use prometheus::proto::{Counter, Metric, MetricFamily, MetricType};

/// Reads one value at scrape time.
pub(super) type Read = Box<dyn Fn() -> f64 + Send + Sync>;

/// A counter whose value is read at scrape time from a total kept elsewhere.
pub(super) struct Pulled {
    desc: Desc,
    read: Read,
}

impl Pulled {
    pub(super) fn new(name: &str, help: &str, read: Read) -> prometheus::Result<Self> {
        let desc = Desc::new(name.into(), help.into(), Vec::new(), HashMap::new())?;
        Ok(Self { desc, read })
    }
}

impl Collector for Pulled {
    fn desc(&self) -> Vec<&Desc> {
        vec![&self.desc]
    }

    fn collect(&self) -> Vec<MetricFamily> {
        let mut counter = Counter::default();
        counter.set_value((self.read)());
        let mut metric = Metric::default();
        metric.set_counter(counter);
        let desc = (self.desc.fq_name.as_str(), self.desc.help.as_str());
        vec![family(desc, MetricType::COUNTER, metric)]
    }
}

/// A family of one unlabelled metric.
pub(super) fn family((name, help): (&str, &str), kind: MetricType, metric: Metric) -> MetricFamily {
    let mut family = MetricFamily::default();
    family.set_name(name.into());
    family.set_help(help.into());
    family.set_field_type(kind);
    family.set_metric(vec![metric]);
    family
}
