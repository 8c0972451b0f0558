//! APS — the Action Priority Score that ranks Today's Moves.
//!
//! `APS = 100 · (0.40·revenue + 0.30·urgency + 0.20·strategic + 0.10·(1 − effort))`
//!
//! One scale, one place. Inputs are fractions in `[0, 1]` held as thousandths
//! ([`Fraction`]); the score is `0–100` held as hundredths of a point ([`ApsScore`]), so
//! the arithmetic is exact integer math and the queue order is reproducible. Both
//! serialize as plain decimals (`0.6`, `63.0`) in events and over the API.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::types::ActionType;
use crate::kernel::unit_enum::read_unit_enum;

/// Weights of the four inputs, in hundredths. They sum to 100.
pub const WEIGHT_REVENUE: u32 = 40;
pub const WEIGHT_URGENCY: u32 = 30;
pub const WEIGHT_STRATEGIC: u32 = 20;
pub const WEIGHT_INVERSE_EFFORT: u32 = 10;

/// A fraction in `[0, 1]`, stored in thousandths. Parsing clamps; NaN is rejected.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Fraction(u16);

impl Fraction {
    pub const SCALE: u16 = 1000;
    pub const ZERO: Fraction = Fraction(0);
    pub const ONE: Fraction = Fraction(Self::SCALE);

    /// From thousandths, clamped to `0..=1000`.
    pub const fn from_thousandths(value: u16) -> Self {
        if value > Self::SCALE {
            Fraction(Self::SCALE)
        } else {
            Fraction(value)
        }
    }

    /// From a decimal, clamped to `[0, 1]` and rounded to the nearest thousandth.
    /// Returns `None` for NaN.
    pub fn from_f64_clamped(value: f64) -> Option<Self> {
        if value.is_nan() {
            return None;
        }
        let clamped = value.clamp(0.0, 1.0);
        Some(Fraction((clamped * f64::from(Self::SCALE)).round() as u16))
    }

    pub const fn thousandths(self) -> u16 {
        self.0
    }

    pub fn as_f64(self) -> f64 {
        f64::from(self.0) / f64::from(Self::SCALE)
    }

    /// `1 − self`.
    pub const fn complement(self) -> Self {
        Fraction(Self::SCALE - self.0)
    }

    /// As a percentage string with at most one decimal: `60`, `62.5`.
    pub fn percent_label(self) -> String {
        if self.0.is_multiple_of(10) {
            format!("{}%", self.0 / 10)
        } else {
            format!("{}.{}%", self.0 / 10, self.0 % 10)
        }
    }
}

impl Serialize for Fraction {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_f64(self.as_f64())
    }
}

impl<'de> Deserialize<'de> for Fraction {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // Read strictly: a value outside [0, 1] is refused, not clamped, so what a client
        // sent is what is recorded (and what the OpenAPI document's bounds say).
        let value = f64::deserialize(deserializer)?;
        (0.0..=1.0)
            .contains(&value)
            .then(|| Fraction::from_f64_clamped(value))
            .flatten()
            .ok_or_else(|| serde::de::Error::custom("a fraction must be a number between 0 and 1"))
    }
}

/// An APS score on `0–100`, stored in hundredths of a point (`0..=10000`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct ApsScore(u16);

impl ApsScore {
    pub const MAX_CENTI: u16 = 10_000;

    pub const fn from_centi(value: u16) -> Self {
        if value > Self::MAX_CENTI {
            ApsScore(Self::MAX_CENTI)
        } else {
            ApsScore(value)
        }
    }

    /// Hundredths of a point: the integer the queue sorts by.
    pub const fn centi(self) -> u16 {
        self.0
    }

    pub fn as_f64(self) -> f64 {
        f64::from(self.0) / 100.0
    }
}

impl Serialize for ApsScore {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_f64(self.as_f64())
    }
}

impl<'de> Deserialize<'de> for ApsScore {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = f64::deserialize(deserializer)?;
        if !(0.0..=100.0).contains(&value) {
            return Err(serde::de::Error::custom(
                "an APS score is between 0 and 100",
            ));
        }
        Ok(ApsScore((value * 100.0).round() as u16))
    }
}

/// The four APS inputs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct ApsInputs {
    #[cfg_attr(feature = "server", schema(value_type = f64, minimum = 0, maximum = 1))]
    pub revenue: Fraction,
    #[cfg_attr(feature = "server", schema(value_type = f64, minimum = 0, maximum = 1))]
    pub urgency: Fraction,
    #[cfg_attr(feature = "server", schema(value_type = f64, minimum = 0, maximum = 1))]
    pub effort: Fraction,
    #[cfg_attr(feature = "server", schema(value_type = f64, minimum = 0, maximum = 1))]
    pub strategic: Fraction,
}

/// Inputs a caller may override; missing ones fall back to the action type's defaults.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ApsOverrides {
    /// Also accepted as `revenue_impact` (the seed's name).
    #[serde(
        default,
        alias = "revenue_impact",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "server", schema(value_type = Option<f64>, minimum = 0, maximum = 1))]
    pub revenue: Option<Fraction>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "server", schema(value_type = Option<f64>, minimum = 0, maximum = 1))]
    pub urgency: Option<Fraction>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "server", schema(value_type = Option<f64>, minimum = 0, maximum = 1))]
    pub effort: Option<Fraction>,
    /// Also accepted as `strategic_value` (the seed's name).
    #[serde(
        default,
        alias = "strategic_value",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "server", schema(value_type = Option<f64>, minimum = 0, maximum = 1))]
    pub strategic: Option<Fraction>,
}

impl ApsOverrides {
    pub fn is_empty(&self) -> bool {
        *self == ApsOverrides::default()
    }
}

impl ApsInputs {
    pub const fn new(revenue: u16, urgency: u16, effort: u16, strategic: u16) -> Self {
        ApsInputs {
            revenue: Fraction::from_thousandths(revenue),
            urgency: Fraction::from_thousandths(urgency),
            effort: Fraction::from_thousandths(effort),
            strategic: Fraction::from_thousandths(strategic),
        }
    }

    /// The seed's per-action defaults (revenue, urgency, effort, strategic).
    pub fn defaults_for(action: ActionType) -> Self {
        use ActionType::*;
        match action {
            BookMeeting | MeetingFollowUp => ApsInputs::new(900, 800, 400, 800),
            SendEmail | EmailFollowUp | ThreadBump => ApsInputs::new(600, 700, 200, 500),
            UpdateCrm | DataCleanup => ApsInputs::new(300, 400, 300, 600),
            CreateTask | LogCall => ApsInputs::new(400, 500, 300, 500),
            _ => ApsInputs::new(500, 500, 500, 500),
        }
    }

    /// These inputs with the given overrides applied.
    pub fn with(self, overrides: &ApsOverrides) -> Self {
        ApsInputs {
            revenue: overrides.revenue.unwrap_or(self.revenue),
            urgency: overrides.urgency.unwrap_or(self.urgency),
            effort: overrides.effort.unwrap_or(self.effort),
            strategic: overrides.strategic.unwrap_or(self.strategic),
        }
    }

    /// The score: exact in hundredths of a point.
    pub fn score(&self) -> ApsScore {
        // Weights are hundredths and inputs thousandths; `weight · input / 10` is the
        // contribution in hundredths of a point, and the four weights sum to 100 so the
        // division is exact once summed (every weight is a multiple of 10).
        let weighted = WEIGHT_REVENUE * u32::from(self.revenue.thousandths())
            + WEIGHT_URGENCY * u32::from(self.urgency.thousandths())
            + WEIGHT_STRATEGIC * u32::from(self.strategic.thousandths())
            + WEIGHT_INVERSE_EFFORT * u32::from(self.effort.complement().thousandths());
        ApsScore::from_centi((weighted / 10) as u16)
    }

    /// `Revenue 60%, Urgency 70%, Strategic 50%, Effort↓ 80%`: the inputs alone, for a
    /// score whose inputs' basis is not known.
    pub fn reasoning(&self) -> String {
        self.factors()
            .iter()
            .map(|(label, value)| format!("{label} {}", value.percent_label()))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// `Revenue 60% (default for send email), Urgency 95%, …`: each input, and which of
    /// them are the action type's defaults rather than assessed for this move.
    pub fn reasoning_with(&self, basis: &ApsBasis, action: ActionType) -> String {
        let default_for = format!(" (default for {})", action.label().to_lowercase());
        self.factors()
            .iter()
            .zip(basis.in_factor_order())
            .map(|((label, value), basis)| {
                let note = match basis {
                    InputBasis::Assessed => "",
                    InputBasis::Default => default_for.as_str(),
                };
                format!("{label} {}{note}", value.percent_label())
            })
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The inputs as people read them, in the order of their weights: effort as `Effort↓`,
    /// its complement (less effort ranks higher).
    fn factors(&self) -> [(&'static str, Fraction); 4] {
        [
            ("Revenue", self.revenue),
            ("Urgency", self.urgency),
            ("Strategic", self.strategic),
            ("Effort↓", self.effort.complement()),
        ]
    }
}

/// What the adjustment is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum LearnedScope {
    Contact,
    Company,
    ActionType,
}

/// One adjustment of a move's APS learned from outcomes (`outcomes::learning`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct Learned {
    pub scope: LearnedScope,
    /// Points added (negative: taken away), in hundredths of a point.
    pub points_centi: i32,
    /// "+8: Dana Lee replied to the email (2 days ago)".
    pub reason: String,
    /// How many outcomes it comes from.
    pub outcomes: u32,
}

/// Where an APS input's value comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[cfg_attr(not(target_arch = "wasm32"), derive(Deserialize))]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum InputBasis {
    /// Given for this move by its proposer (a person, an agent's rules, a signal) or an edit.
    Assessed,
    /// The action type's default: nobody assessed it for this move.
    Default,
}

read_unit_enum!(InputBasis {
    Assessed = "assessed",
    Default = "default",
});

/// The basis of each of the four APS inputs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct ApsBasis {
    pub revenue: InputBasis,
    pub urgency: InputBasis,
    pub effort: InputBasis,
    pub strategic: InputBasis,
}

impl ApsBasis {
    /// The inputs `overrides` names are assessed; the others are defaults.
    pub fn of(overrides: &ApsOverrides) -> Self {
        ApsBasis {
            revenue: InputBasis::Default,
            urgency: InputBasis::Default,
            effort: InputBasis::Default,
            strategic: InputBasis::Default,
        }
        .with(overrides)
    }

    /// This basis after `overrides`: the inputs it names are assessed now.
    pub fn with(self, overrides: &ApsOverrides) -> Self {
        let assessed = |given: Option<Fraction>, before: InputBasis| {
            if given.is_some() {
                InputBasis::Assessed
            } else {
                before
            }
        };
        ApsBasis {
            revenue: assessed(overrides.revenue, self.revenue),
            urgency: assessed(overrides.urgency, self.urgency),
            effort: assessed(overrides.effort, self.effort),
            strategic: assessed(overrides.strategic, self.strategic),
        }
    }

    fn in_factor_order(&self) -> [InputBasis; 4] {
        [self.revenue, self.urgency, self.strategic, self.effort]
    }
}

/// A computed APS: the score, the inputs it came from, which of them are defaults, and the
/// reasoning shown to people.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct Aps {
    #[cfg_attr(feature = "server", schema(value_type = f64, minimum = 0, maximum = 100))]
    pub score: ApsScore,
    pub inputs: ApsInputs,
    /// Which inputs were assessed for this move and which are its action type's defaults.
    /// Absent on moves recorded before it was (their reasoning does not say either).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub basis: Option<ApsBasis>,
    /// The inputs as percentages, each default marked: `Revenue 60% (default for send
    /// email), Urgency 95%, …`, then what was learned from outcomes: `; +8: Dana Lee replied
    /// to the email (yesterday)`.
    pub reasoning: String,
    /// What outcomes taught (per contact, company and action type), already in `score`.
    /// The SPA reads it from `reasoning`.
    #[cfg(not(target_arch = "wasm32"))]
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub learned: Vec<Learned>,
}

impl Aps {
    /// The APS of inputs whose basis is not known.
    pub fn compute(inputs: ApsInputs) -> Self {
        Aps {
            score: inputs.score(),
            inputs,
            basis: None,
            reasoning: inputs.reasoning(),
            #[cfg(not(target_arch = "wasm32"))]
            learned: Vec::new(),
        }
    }

    /// The APS of an action type with optional overrides of its default inputs: the
    /// overridden inputs are assessed, the rest defaults.
    pub fn for_action(action: ActionType, overrides: &ApsOverrides) -> Self {
        Aps::with_basis(
            ApsInputs::defaults_for(action).with(overrides),
            ApsBasis::of(overrides),
            action,
        )
    }

    /// This APS after an edit of some inputs (which become assessed); what was learned
    /// stays.
    pub fn edited(&self, action: ActionType, overrides: &ApsOverrides) -> Self {
        let inputs = self.inputs.with(overrides);
        let edited = match self.basis {
            Some(basis) => Aps::with_basis(inputs, basis.with(overrides), action),
            None => Aps::compute(inputs),
        };
        #[cfg(not(target_arch = "wasm32"))]
        let edited = edited.with_learned(self.learned.clone());
        edited
    }

    fn with_basis(inputs: ApsInputs, basis: ApsBasis, action: ActionType) -> Self {
        Aps {
            score: inputs.score(),
            inputs,
            basis: Some(basis),
            reasoning: inputs.reasoning_with(&basis, action),
            #[cfg(not(target_arch = "wasm32"))]
            learned: Vec::new(),
        }
    }

    /// This APS with what outcomes taught added to its score (within 0–100) and its
    /// reasons appended to the reasoning. `self` carries none yet.
    #[cfg(not(target_arch = "wasm32"))]
    pub fn with_learned(mut self, learned: Vec<Learned>) -> Self {
        if learned.is_empty() {
            return self;
        }
        let delta: i32 = learned.iter().map(|l| l.points_centi).sum();
        let score = (i32::from(self.inputs.score().centi()) + delta)
            .clamp(0, i32::from(ApsScore::MAX_CENTI));
        self.score = ApsScore::from_centi(score as u16);
        for l in &learned {
            self.reasoning.push_str("; ");
            self.reasoning.push_str(&l.reason);
        }
        self.learned = learned;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(x: f64) -> Fraction {
        Fraction::from_f64_clamped(x).unwrap()
    }

    #[test]
    fn the_seeds_worked_examples_score_as_documented() {
        // (label, inputs r, u, e, s, expected score)
        let table: &[(&str, ApsInputs, f64)] = &[
            (
                "send_email defaults",
                ApsInputs::defaults_for(ActionType::SendEmail),
                63.0,
            ),
            (
                "book_meeting defaults",
                ApsInputs::defaults_for(ActionType::BookMeeting),
                82.0,
            ),
            ("form signal", ApsInputs::new(600, 900, 200, 500), 69.0),
            (
                "$50k deal_created",
                ApsInputs::new(500, 850, 300, 700),
                66.5,
            ),
            (
                "everything maximal",
                ApsInputs::new(1000, 1000, 0, 1000),
                100.0,
            ),
            ("everything minimal", ApsInputs::new(0, 0, 1000, 0), 0.0),
            (
                "unknown type defaults",
                ApsInputs::defaults_for(ActionType::ManualTask),
                50.0,
            ),
        ];
        for (label, inputs, expected) in table {
            assert_eq!(inputs.score().as_f64(), *expected, "{label}");
        }
    }

    #[test]
    fn per_action_defaults_follow_the_seed_table() {
        type Defaults = (u16, u16, u16, u16);
        let table: &[(ActionType, Defaults)] = &[
            (ActionType::BookMeeting, (900, 800, 400, 800)),
            (ActionType::MeetingFollowUp, (900, 800, 400, 800)),
            (ActionType::SendEmail, (600, 700, 200, 500)),
            (ActionType::EmailFollowUp, (600, 700, 200, 500)),
            (ActionType::ThreadBump, (600, 700, 200, 500)),
            (ActionType::UpdateCrm, (300, 400, 300, 600)),
            (ActionType::DataCleanup, (300, 400, 300, 600)),
            (ActionType::CreateTask, (400, 500, 300, 500)),
            (ActionType::LogCall, (400, 500, 300, 500)),
            (ActionType::ReviewDeal, (500, 500, 500, 500)),
            (ActionType::SocialPost, (500, 500, 500, 500)),
        ];
        for (action, (r, u, e, s)) in table {
            assert_eq!(
                ApsInputs::defaults_for(*action),
                ApsInputs::new(*r, *u, *e, *s),
                "{action:?}"
            );
        }
    }

    #[test]
    fn inputs_are_clamped_to_the_unit_interval() {
        assert_eq!(f(1.7), Fraction::ONE);
        assert_eq!(f(-0.2), Fraction::ZERO);
        assert_eq!(f(0.6666), Fraction::from_thousandths(667));
        assert!(Fraction::from_f64_clamped(f64::NAN).is_none());
        assert_eq!(Fraction::from_thousandths(4000), Fraction::ONE);
    }

    #[test]
    fn fractions_read_from_json_are_refused_outside_the_unit_interval_not_clamped() {
        let read = |json: &str| serde_json::from_str::<Fraction>(json);
        assert_eq!(read("0.25").unwrap(), Fraction::from_thousandths(250));
        assert_eq!(read("1").unwrap(), Fraction::ONE);
        for outside in ["-1", "1.0001", "-0.0001", "7"] {
            assert!(read(outside).is_err(), "{outside}");
        }
    }

    #[test]
    fn overrides_replace_only_the_inputs_they_name() {
        let overrides = ApsOverrides {
            urgency: Some(f(0.95)),
            ..ApsOverrides::default()
        };
        let aps = Aps::for_action(ActionType::SendEmail, &overrides);
        assert_eq!(aps.inputs, ApsInputs::new(600, 950, 200, 500));
        assert_eq!(aps.score.as_f64(), 70.5);
    }

    #[test]
    fn reasoning_names_each_input_as_a_percentage() {
        let aps = Aps::compute(ApsInputs::defaults_for(ActionType::SendEmail));
        assert_eq!(
            aps.reasoning,
            "Revenue 60%, Urgency 70%, Strategic 50%, Effort↓ 80%"
        );
        let odd = ApsInputs::new(625, 700, 205, 500).reasoning();
        assert_eq!(
            odd,
            "Revenue 62.5%, Urgency 70%, Strategic 50%, Effort↓ 79.5%"
        );
    }

    #[test]
    fn reasoning_says_which_inputs_are_defaults_of_the_action_type() {
        use InputBasis::{Assessed, Default};
        let urgent = ApsOverrides {
            urgency: Some(f(0.95)),
            ..ApsOverrides::default()
        };
        let everything = ApsOverrides {
            revenue: Some(f(0.6)),
            urgency: Some(f(0.7)),
            effort: Some(f(0.2)),
            strategic: Some(f(0.5)),
        };
        // (action, overrides, basis of revenue/urgency/effort/strategic, reasoning)
        let table = [
            (
                ActionType::SendEmail,
                ApsOverrides::default(),
                [Default, Default, Default, Default],
                "Revenue 60% (default for send email), Urgency 70% (default for send email), \
                 Strategic 50% (default for send email), Effort↓ 80% (default for send email)",
            ),
            (
                ActionType::SendEmail,
                urgent,
                [Default, Assessed, Default, Default],
                "Revenue 60% (default for send email), Urgency 95%, \
                 Strategic 50% (default for send email), Effort↓ 80% (default for send email)",
            ),
            // Assessed values equal to the defaults are still assessed.
            (
                ActionType::SendEmail,
                everything,
                [Assessed, Assessed, Assessed, Assessed],
                "Revenue 60%, Urgency 70%, Strategic 50%, Effort↓ 80%",
            ),
            (
                ActionType::BookMeeting,
                ApsOverrides {
                    effort: Some(f(0.1)),
                    ..ApsOverrides::default()
                },
                [Default, Default, Assessed, Default],
                "Revenue 90% (default for book meeting), Urgency 80% (default for book meeting), \
                 Strategic 80% (default for book meeting), Effort↓ 90%",
            ),
        ];
        for (action, overrides, [r, u, e, s], reasoning) in table {
            let aps = Aps::for_action(action, &overrides);
            let basis = aps.basis.expect("a proposed move's APS has a basis");
            assert_eq!(
                [basis.revenue, basis.urgency, basis.effort, basis.strategic],
                [r, u, e, s],
                "{action:?} {overrides:?}"
            );
            assert_eq!(aps.reasoning, reasoning, "{action:?} {overrides:?}");
        }
    }

    #[test]
    fn an_edited_input_becomes_assessed_and_the_others_keep_their_basis() {
        let proposed = Aps::for_action(
            ActionType::SendEmail,
            &ApsOverrides {
                urgency: Some(f(0.95)),
                ..ApsOverrides::default()
            },
        );
        let edited = proposed.edited(
            ActionType::SendEmail,
            &ApsOverrides {
                revenue: Some(f(0.8)),
                ..ApsOverrides::default()
            },
        );
        assert_eq!(edited.inputs, ApsInputs::new(800, 950, 200, 500));
        assert_eq!(
            edited.reasoning,
            "Revenue 80%, Urgency 95%, Strategic 50% (default for send email), \
             Effort↓ 80% (default for send email)"
        );
    }

    #[test]
    fn an_aps_recorded_without_a_basis_still_reads_and_says_nothing_of_defaults() {
        let recorded = serde_json::json!({
            "score": 63.0,
            "inputs": {"revenue": 0.6, "urgency": 0.7, "effort": 0.2, "strategic": 0.5},
            "reasoning": "Revenue 60%, Urgency 70%, Strategic 50%, Effort↓ 80%"
        });
        let aps: Aps = serde_json::from_value(recorded).expect("the old shape decodes");
        assert_eq!(aps.basis, None);
        let edited = aps.edited(
            ActionType::SendEmail,
            &ApsOverrides {
                urgency: Some(f(0.9)),
                ..ApsOverrides::default()
            },
        );
        assert_eq!(edited.basis, None);
        assert_eq!(
            edited.reasoning,
            "Revenue 60%, Urgency 90%, Strategic 50%, Effort↓ 80%"
        );
    }

    #[test]
    fn scores_and_fractions_round_trip_through_json_unchanged() {
        let aps = Aps::for_action(ActionType::BookMeeting, &ApsOverrides::default());
        let json = serde_json::to_value(&aps).unwrap();
        assert_eq!(json["score"], serde_json::json!(82.0));
        assert_eq!(json["inputs"]["revenue"], serde_json::json!(0.9));
        let back: Aps = serde_json::from_value(json).unwrap();
        assert_eq!(back, aps);
        for thousandths in 0..=1000u16 {
            let x = Fraction::from_thousandths(thousandths);
            let back: Fraction = serde_json::from_str(&serde_json::to_string(&x).unwrap()).unwrap();
            assert_eq!(back, x);
        }
    }
}
