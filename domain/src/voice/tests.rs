use chrono::TimeZone;

use super::persona::traits;
use super::*;

fn at(minute: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 1, 9, minute, 0).unwrap()
}

fn add(content: &str, rating: Option<u8>) -> VoiceSampleCommand {
    VoiceSampleCommand::Add {
        id: Uuid::from_u128(1),
        content: content.into(),
        subject: None,
        source: SampleSource::Manual,
        rating,
        feedback: None,
        origin: None,
        by: Actor::user("casey"),
        at: at(0),
    }
}

fn run(s: &mut VoiceSample, command: VoiceSampleCommand) -> Result<usize, VoiceError> {
    let events = s.decide(command)?;
    let n = events.len();
    for e in events {
        s.apply(e);
    }
    Ok(n)
}

#[test]
fn a_sample_is_added_once_rated_and_removed() {
    let mut s = VoiceSample::default();
    assert_eq!(
        run(&mut s, add("Hi Dana,", Some(6))),
        Err(VoiceError::BadRating)
    );
    assert_eq!(run(&mut s, add("Hi Dana,", None)), Ok(1));
    assert_eq!(
        run(&mut s, add("Hi Dana,", None)),
        Ok(0),
        "the same sample again"
    );
    assert_eq!(
        run(&mut s, add("Other", None)),
        Err(VoiceError::OtherContent)
    );
    let rate = |rating, feedback: Option<&str>| VoiceSampleCommand::Rate {
        rating,
        feedback: feedback.map(String::from),
        by: Actor::user("casey"),
        at: at(1),
    };
    assert_eq!(run(&mut s, rate(0, None)), Err(VoiceError::BadRating));
    assert_eq!(run(&mut s, rate(5, Some("exactly me"))), Ok(1));
    assert_eq!(run(&mut s, rate(5, Some("exactly me"))), Ok(0));
    assert_eq!(run(&mut s, rate(4, None)), Ok(1));
    let view = s.view().unwrap();
    assert_eq!(
        (view.rating, view.feedback.clone(), view.version),
        (Some(4), None, 3)
    );
    let remove = || VoiceSampleCommand::Remove {
        by: Actor::user("casey"),
        at: at(2),
    };
    assert_eq!(run(&mut s, remove()), Ok(1));
    assert_eq!(run(&mut s, remove()), Ok(0));
    assert_eq!(run(&mut s, rate(3, None)), Err(VoiceError::NotFound));
}

#[test]
fn collected_samples_have_one_id_per_execution() {
    let a = Uuid::from_u128(10);
    assert_eq!(collected_sample_id(a), collected_sample_id(a));
    assert_ne!(
        collected_sample_id(a),
        collected_sample_id(Uuid::from_u128(11))
    );
}

#[test]
fn the_persona_counts_words_phrases_greetings_and_sign_offs() {
    let one = "Hi Dana,\n\nSaw your pipeline review post. How do you run forecast calls? \
               I'd love to compare notes.\n\nCheers,\nCasey";
    let two = "Hi Sam,\n\nYour pipeline review looked sharp. Worth a quick call?\n\nCheers,\nCasey";
    let three =
        "Hello team,\n\nPlease find the quarterly numbers attached. Regards.\n\nBest,\nCasey";
    let disliked = "Dear Sir or Madam, we leverage synergy synergy synergy.";
    let t = traits(&[
        (one, Some(5)),
        (two, None),
        (three, Some(3)),
        (disliked, Some(1)),
    ]);
    assert_eq!(t.used_count, 3, "the sample rated 1 is left out");
    assert_eq!(t.greeting.as_deref(), Some("Hi"));
    assert_eq!(t.sign_off.as_deref(), Some("Cheers,"));
    assert_eq!(
        t.common_phrases
            .first()
            .map(|p| (p.phrase.as_str(), p.count)),
        Some(("pipeline review", 2))
    );
    let count = |w: &str| {
        t.word_frequency
            .iter()
            .find(|c| c.word == w)
            .map(|c| c.count)
    };
    assert_eq!(count("casey"), Some(3));
    assert_eq!(count("pipeline"), Some(2));
    assert_eq!(count("synergy"), None, "a disliked sample adds no words");
    assert_eq!(count("the"), None, "common English words are left out");
    // Sentences: one has 7 (greeting, 2 body + "I'd…", Cheers, Casey), two 5, three 5.
    assert!(
        t.stats.question_rate > 0.1 && t.stats.question_rate < 0.2,
        "{:?}",
        t.stats
    );
    assert!(t.stats.contraction_rate > 0.0, "{:?}", t.stats);
    assert!(t.tone.contains(&"concise".to_string()), "{:?}", t.tone);
    assert!(
        t.style.iter().any(|s| s == "signs off with \"Cheers,\""),
        "{:?}",
        t.style
    );
    assert_eq!(traits(&[]), Default::default());
}
