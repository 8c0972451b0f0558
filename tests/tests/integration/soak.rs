//! The soak run (`caseyos-soak`), short: two `caseyos serve` processes on one database
//! under mixed load, one SIGKILLed and started again; every acknowledged write's events
//! exist, both instances served, and the killed one came back.

use std::path::PathBuf;
use std::time::Duration;

use caseyos_tests::soak::{self, Ending, SoakConfig, Write};
use tokio_util::sync::CancellationToken;

use crate::support::process::BIN;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_short_soak_keeps_every_acknowledged_write_across_a_kill_and_a_restart() {
    let config = SoakConfig {
        duration: Duration::from_secs(24),
        kill_every: Duration::from_secs(8),
        down_for: Duration::from_secs(1),
        clients: 4,
        window: Duration::from_secs(4),
        settle_for: Duration::from_secs(60),
        // A run the killed instance held moves on 5 s after its last renewal.
        server_env: vec![("CASEYOS_AGENT_LEASE_SECS".into(), "5".into())],
        ..SoakConfig::standard(PathBuf::from(BIN))
    };
    let report = soak::run(config, CancellationToken::new())
        .await
        .expect("the soak runs");
    println!("{report}");

    // Kills at 8 s and 16 s: A, then B, each started again.
    assert_eq!(report.kills, 2, "{report}");
    for slot in 0..2 {
        let lives: Vec<_> = report
            .generations
            .iter()
            .filter(|g| g.slot == slot)
            .collect();
        assert_eq!(
            lives.len(),
            2,
            "instance {slot}: killed once, started again"
        );
        assert!(
            matches!(lives[0].ended, Some(Ending::Killed(_))),
            "{:?}",
            lives[0]
        );
        assert!(
            matches!(lives[1].ended, Some(Ending::Stopped(Ok(status))) if status.success()),
            "the restarted process stops cleanly: {:?}",
            lives[1]
        );
        assert!(lives[1].ready_after.is_some(), "{:?}", lives[1]);
        assert!(
            report.served_by(lives[0]) > 0,
            "instance {slot} served before its kill"
        );
    }
    // Whether a restarted process got load before the end depends on the machine's speed;
    // the final reads reach it in any case.
    assert_eq!(report.final_reads.len(), 2, "{report}");
    for (slot, ready, counts) in &report.final_reads {
        assert_eq!((*ready, *counts), (200, 200), "instance {slot} at the end");
    }

    // Every acknowledged write is in the events table at its token, exactly once.
    assert!(report.acknowledged() > 0, "{report}");
    for write in [Write::Propose, Write::Approve] {
        assert!(
            report.acks.acknowledged.get(&write).copied().unwrap_or(0) > 0,
            "no {} was acknowledged",
            write.name()
        );
    }
    assert_eq!(report.acks.missing, 0, "{:?}", report.acks.missing_examples);
    assert_eq!(report.acks.found, report.acknowledged());
    assert_eq!(
        report.acks.duplicated, 0,
        "{:?}",
        report.acks.duplicated_examples
    );
    assert_eq!(
        report.counts.ryw_violations, 0,
        "{:?}",
        report.counts.ryw_examples
    );
    assert!(report.settled.is_some(), "{report}");
    assert!(report.read_models.agrees(), "{:?}", report.read_models);
    assert!(report.database_dropped);
    assert!(report.failures().is_empty(), "{:?}", report.failures());
}
