//! What the OpenAPI document says of every operation, written once: the error responses all
//! operations share, the `Idempotency-Key` header's rules, one run operation per agent with
//! that agent's own input schema, and the links a client follows from one answer to the next
//! call (propose a move → approve it, request a run → retry it).
//!
//! Handlers document what is theirs (their success, their 404 and 409, a 422 with their
//! rules); [`refine`] adds what is everyone's and never overrides a handler's own entry.

use caseyos_domain::agent_run::MAX_REASON_CHARS;
use caseyos_domain::agent_run::{AgentRun, RunStatus, RunTrigger};
use caseyos_domain::aggregate::Aggregate;
use caseyos_domain::alerts::{AlertKind, AlertSeverity, AlertStatus};
use caseyos_domain::api::MAX_PHONE_CHARS;
use caseyos_domain::auto_approval::MAX_RULE_NAME_CHARS;
use caseyos_domain::contacts::{
    CompanyDomain, ContactField, ContactSource, ContactStatus, LifecycleStage,
    MAX_CUSTOM_PROPERTIES, MAX_LIST_ITEMS, MAX_NAME_CHARS, MAX_TEXT_CHARS as CONTACT_TEXT_CHARS,
};
use caseyos_domain::deals::{MAX_NAME_CHARS as DEAL_NAME_CHARS, MAX_TEXT_CHARS as DEAL_TEXT_CHARS};
use caseyos_domain::duplicates::PairStatus;
use caseyos_domain::executions::ExecutionStatus;
use caseyos_domain::kernel::{CrmId, EmailAddress, UserName, OPTIONAL_TEXT_PATTERN, TEXT_PATTERN};
use caseyos_domain::pipelines::{MAX_LABEL_CHARS, MAX_PROBABILITY, MAX_STAGES};
use caseyos_domain::queue::{
    ActionType, QueueDomain, QueueItem, QueueStatus, ACTION_TYPE_ALIASES, MAX_TEXT_CHARS,
    MAX_TITLE_CHARS,
};
use caseyos_domain::signals::{SignalKind, SignalSource, MAX_DEDUP_KEY_CHARS};
use serde_json::{json, Map, Value};

use crate::api::deals::MAX_CONTACTS_PER_REQUEST;

/// The document's shared error responses, by status: their component name, when an operation
/// has them, and what they mean.
const SHARED: &[(&str, &str, &str)] = &[
    (
        "400",
        "BadRequest",
        "The request cannot be read: a path or query parameter, a header or the JSON body is \
         malformed (`request.invalid_path`, `request.invalid_query`, `request.invalid_cursor`, \
         `request.invalid_header`, `request.invalid_json`, `consistency.invalid_mode`, \
         `consistency.invalid_token`, `idempotency.invalid_key`)",
    ),
    (
        "401",
        "Unauthorized",
        "No valid credential: no bearer token or session, or one that is unknown, revoked or \
         expired (`auth.missing_credentials`, `auth.invalid_token`, `auth.session_expired`)",
    ),
    (
        "403",
        "Forbidden",
        "The credential may not do this: its role does not allow it, or a session request \
         that changes state came without its `X-CSRF-Token` (`auth.forbidden`, \
         `auth.csrf_failed`)",
    ),
    (
        "409",
        "InProgress",
        "A request with this `Idempotency-Key` is still being processed; retry it \
         (`idempotency.in_progress`)",
    ),
    (
        "413",
        "TooLarge",
        "The body is larger than the server accepts (`request.too_large`)",
    ),
    (
        "415",
        "UnsupportedMediaType",
        "The body is not `application/json` (`request.unsupported_media_type`)",
    ),
    (
        "422",
        "Unprocessable",
        "A field breaks a rule; `details.fields` names each one with its message \
         (`request.validation` and the resource's own codes), or the `Idempotency-Key` was used \
         for a different request (`idempotency.key_reused`)",
    ),
    (
        "503",
        "Unavailable",
        "The read model has not caught up with the write named by `after` within the \
         configured bound (`consistency.timeout`), or the database is busy (`service.busy`); \
         retry shortly",
    ),
];

/// The `Idempotency-Key` header as the server parses it.
fn idempotency_key_schema() -> Value {
    json!({
        "type": "string",
        "minLength": 1,
        "maxLength": 255,
        "pattern": "^[!-~]{1,255}$",
        "description": "1–255 visible ASCII characters; a retry with the same key and body \
                        answers as the first request did, without running the command again",
        "example": "b7f3c1e2-propose-1",
    })
}

/// Refines the generated document (see the module's documentation).
pub fn refine(doc: &mut Value, agents: &[AgentOperation]) {
    add_shared_responses(doc);
    if let Some(stream) =
        doc.pointer_mut("/paths/~1api~1events/get/responses/200/content/text~1event-stream")
    {
        stream["schema"] = super::live::event_schema();
    }
    split_agent_runs(doc, agents);
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else {
        return;
    };
    for item in paths.values_mut() {
        let Some(item) = item.as_object_mut() else {
            continue;
        };
        for (method, operation) in item.iter_mut() {
            if let Some(operation) = operation.as_object_mut() {
                refine_operation(method, operation);
            }
        }
    }
    add_links(doc);
    let agents: Vec<String> = caseyos_agents::REGISTRY
        .iter()
        .map(|spec| spec.name.to_string())
        .collect();
    let one_agent = (
        "/api/agent-runs".to_string(),
        "agent",
        format!("^({})?$", agents.join("|")),
    );
    let filters = list_filters()
        .into_iter()
        .map(|(path, parameter, names)| (path, parameter, list_pattern(&names)))
        .chain([one_agent]);
    for (path, parameter, pattern) in filters {
        if let Some(parameters) = doc
            .pointer_mut(&format!("/paths/{}/get/parameters", escape(&path)))
            .and_then(Value::as_array_mut)
        {
            for p in parameters.iter_mut().filter(|p| p["name"] == parameter) {
                p["schema"]["pattern"] = json!(pattern);
            }
        }
    }
    // A form submission is any JSON object (its values without U+0000, as everywhere).
    if let Some(schema) = doc.pointer_mut(
        "/paths/~1api~1webhooks~1forms~1{form}/post/requestBody/content/application~1json/schema",
    ) {
        *schema = json!({
            "type": "object",
            "propertyNames": {"pattern": "^[^\\x00]*$"},
            "additionalProperties": {"$ref": "#/components/schemas/JsonValue"},
        });
    }
    request_rules(doc);
    add_request_examples(doc);
    forbid_nul(doc);
}

/// An example body for every operation that takes one (the agents' come from their specs).
fn add_request_examples(doc: &mut Value) {
    let ids = json!([
        "0193a8c0-0000-7000-8000-000000000001",
        "0193a8c0-0000-7000-8000-000000000002"
    ]);
    let examples = [
        (
            "/api/queue",
            json!({
                "action_type": "send_email",
                "title": "Send Dana the proposal",
                "target": {"contact": {"id": "c-101", "name": "Dana Lee"}},
                "payload": {"to": "dana@acme.io", "subject": "Proposal", "body": "Hi Dana, here it is."},
                "rationale": "She asked for it on Tuesday's call",
            }),
        ),
        ("/api/queue/{id}/approve", json!({"note": "Looks right"})),
        (
            "/api/contacts",
            json!({
                "first_name": "Dana",
                "last_name": "Lee",
                "emails": ["dana@acme.io"],
                "phones": ["(415) 555-0100"],
                "job_title": "VP Sales",
                "company_name": "Acme",
                "company_domain": "acme.io",
                "lifecycle_stage": "salesqualifiedlead",
                "owner": "casey",
                "crm_id": "501",
                "custom": {"lead_source": "webinar"},
            }),
        ),
        (
            "/api/contacts/{id}/edit",
            json!({"job_title": "CRO", "phones": null, "custom": {"lead_source": null}}),
        ),
        (
            "/api/contacts/{id}/archive",
            json!({"reason": "Left the company"}),
        ),
        ("/api/queue/{id}/reject", json!({"reason": "Not this week"})),
        (
            "/api/queue/{id}/snooze",
            json!({"preset": "tomorrow", "timezone": "Europe/Berlin"}),
        ),
        (
            "/api/queue/{id}/edit",
            json!({"title": "Send Dana the revised proposal"}),
        ),
        (
            "/api/queue/bulk/approve",
            json!({"ids": ids, "note": "Reviewed together"}),
        ),
        (
            "/api/queue/bulk/reject",
            json!({"ids": ids, "reason": "Out of scope this quarter"}),
        ),
        (
            "/api/agent-runs/{id}/cancel",
            json!({"reason": "Started by mistake"}),
        ),
        ("/api/session", json!({"link": "sl_3q2x…"})),
        (
            "/api/tokens",
            json!({"name": "crm-sync", "user": "casey", "role": "operator", "expires_in_days": 90}),
        ),
    ];
    let pipeline = json!({
        "id": "renewals",
        "label": "Renewals",
        "stages": [
            {"id": "review", "label": "Review", "probability": 50, "kind": "open"},
            {"id": "renewed", "label": "Renewed", "probability": 100, "kind": "won"},
            {"id": "churned", "label": "Churned", "probability": 0, "kind": "lost"},
        ],
    });
    let more = [
        ("post", "/api/deals/{id}/won", json!({})),
        (
            "post",
            "/api/deals/{id}/reopen",
            json!({"stage": "qualifiedtobuy"}),
        ),
        ("post", "/api/pipelines", pipeline.clone()),
        ("put", "/api/pipelines/{id}", pipeline),
    ];
    let examples = examples
        .into_iter()
        .map(|(path, example)| ("post", path, example))
        .chain(more);
    for (method, path, example) in examples {
        if let Some(media) = doc.pointer_mut(&format!(
            "/paths/{}/{method}/requestBody/content/application~1json",
            escape(path)
        )) {
            media["example"] = example;
        }
    }
    // Every other body whose schema gives an example shows it as the body's example too.
    let schemas = doc["components"]["schemas"].clone();
    if let Some(paths) = doc["paths"].as_object_mut() {
        for operation in paths.values_mut().filter_map(Value::as_object_mut) {
            for operation in operation.values_mut() {
                let Some(media) = operation.pointer_mut("/requestBody/content/application~1json")
                else {
                    continue;
                };
                if media.get("example").is_some() {
                    continue;
                }
                let name = media["schema"]["$ref"]
                    .as_str()
                    .and_then(|r| r.rsplit('/').next())
                    .unwrap_or_default();
                if let Some(example) = schemas[name].get("example") {
                    media["example"] = example.clone();
                }
            }
        }
    }
}

/// The rules the server's parsers apply to request fields, in the document: text and names
/// (patterns tested against the parsers in the domain), list sizes, and the bodies that take
/// exactly one of two fields.
fn request_rules(doc: &mut Value) {
    let text = |max: usize| json!({"pattern": TEXT_PATTERN, "maxLength": max});
    let optional_text = |max: usize| json!({"pattern": OPTIONAL_TEXT_PATTERN, "maxLength": max});
    let name = json!({"pattern": UserName::PATTERN, "maxLength": UserName::MAX_CHARS});
    let crm_id = json!({"pattern": CrmId::PATTERN});
    let crm_id_rule = || json!({"pattern": CrmId::PATTERN});
    // Every address, wherever it is, as sent (no surrounding spaces): `format: email` also
    // limits the local part to 64.
    doc["components"]["schemas"]["EmailAddress"]["pattern"] = json!(EmailAddress::EXACT_PATTERN);
    let rules = [
        (
            "ProposeQueueItemRequest",
            "title",
            optional_text(MAX_TITLE_CHARS),
        ),
        (
            "ProposeQueueItemRequest",
            "rationale",
            optional_text(MAX_TEXT_CHARS),
        ),
        ("ProposeQueueItemRequest", "owner", name.clone()),
        ("EditQueueItemRequest", "title", text(MAX_TITLE_CHARS)),
        (
            "EditQueueItemRequest",
            "rationale",
            optional_text(MAX_TEXT_CHARS),
        ),
        ("EditQueueItemRequest", "owner", name),
        (
            "ApproveQueueItemRequest",
            "note",
            optional_text(MAX_TEXT_CHARS),
        ),
        ("RejectQueueItemRequest", "reason", text(MAX_TEXT_CHARS)),
        (
            "ChatMessageRequest",
            "content",
            text(caseyos_domain::chat::MAX_MESSAGE_CHARS),
        ),
        (
            "SetPreferenceRequest",
            "value",
            text(caseyos_domain::chat::preferences::MAX_VALUE_CHARS),
        ),
        (
            "CreateChatSessionRequest",
            "title",
            optional_text(caseyos_domain::chat::MAX_TITLE_CHARS),
        ),
        (
            "StartResearchRequest",
            "question",
            text(caseyos_domain::research::MAX_QUESTION_CHARS),
        ),
        (
            "AddVoiceSampleRequest",
            "content",
            text(caseyos_domain::voice::MAX_SAMPLE_CHARS),
        ),
        (
            "AddVoiceSampleRequest",
            "feedback",
            optional_text(caseyos_domain::voice::MAX_FEEDBACK_CHARS),
        ),
        (
            "RateVoiceSampleRequest",
            "feedback",
            optional_text(caseyos_domain::voice::MAX_FEEDBACK_CHARS),
        ),
        (
            "BulkDecisionRequest",
            "ids",
            json!({"minItems": 1, "maxItems": 100, "uniqueItems": true}),
        ),
        ("ProposeQueueItemRequest", "contact_id", crm_id.clone()),
        ("ProposeQueueItemRequest", "deal_id", crm_id.clone()),
        ("ProposeQueueItemRequest", "company_id", crm_id.clone()),
        (
            "SnoozeQueueItemRequest",
            "timezone",
            json!({"enum": chrono_tz::TZ_VARIANTS.iter().map(|tz| tz.name()).collect::<Vec<_>>()}),
        ),
        (
            "CancelAgentRunRequest",
            "reason",
            optional_text(MAX_REASON_CHARS),
        ),
        (
            "ArchiveContactRequest",
            "reason",
            optional_text(CONTACT_TEXT_CHARS),
        ),
        ("KillSwitchRequest", "reason", optional_text(MAX_TEXT_CHARS)),
        (
            "CompleteExecutionRequest",
            "note",
            optional_text(MAX_TEXT_CHARS),
        ),
        ("RecordOutcomeRequest", "contact_id", crm_id.clone()),
        ("RecordSignalRequest", "title", text(MAX_TITLE_CHARS)),
        ("RecordSignalRequest", "note", optional_text(MAX_TEXT_CHARS)),
        (
            "RecordSignalRequest",
            "dedup_key",
            text(MAX_DEDUP_KEY_CHARS),
        ),
        (
            "RecordSignalRequest",
            "occurred_at",
            json!({"pattern": YEARS_2_TO_9998}),
        ),
        ("RuleRequest", "name", text(MAX_RULE_NAME_CHARS)),
        (
            "AutoApprovalSwitchRequest",
            "reason",
            optional_text(MAX_TEXT_CHARS),
        ),
    ];
    let mut rules = rules.to_vec();
    let stages: Vec<&str> = LifecycleStage::ALL.iter().map(|s| s.as_str()).collect();
    let stage_values = format!("({})", stages.join("|"));
    let crm_id_inner = "[A-Za-z0-9_-]{1,64}".to_string();
    // `UserName::PATTERN` without its anchors.
    let owner_inner = UserName::PATTERN
        .trim_start_matches('^')
        .trim_end_matches('$')
        .to_string();
    let blank_or_pattern = |inner: &str| format!("^[{WHITESPACE}]*({inner})?[{WHITESPACE}]*$");
    let blank_or = |inner: &str| json!({"pattern": blank_or_pattern(inner)});
    let email =
        json!({"type": "string", "format": "email", "pattern": EmailAddress::EXACT_PATTERN});
    // `email` alone may be null: a create reads it as absent, an edit as "remove them all".
    let nullable_email = json!({"type": ["string", "null"], "format": "email", "pattern": EmailAddress::EXACT_PATTERN});
    let phones = json!({"maxItems": MAX_LIST_ITEMS, "items": {"type": "string", "pattern": TEXT_PATTERN, "maxLength": MAX_PHONE_CHARS}});
    rules.push(("RecordOutcomeRequest", "email", nullable_email.clone()));
    for schema in ["CreateContactRequest", "EditContactRequest"] {
        for field in ["first_name", "last_name", "job_title", "company_name"] {
            rules.push((schema, field, optional_text(MAX_NAME_CHARS)));
        }
        rules.push((schema, "email", nullable_email.clone()));
        rules.push((
            schema,
            "emails",
            json!({"maxItems": MAX_LIST_ITEMS, "items": email.clone()}),
        ));
        rules.push((schema, "phones", phones.clone()));
        // Blank is no value for these; otherwise the parsers' own rules.
        rules.push((schema, "lifecycle_stage", blank_or(&stage_values)));
        rules.push((schema, "crm_id", blank_or(&crm_id_inner)));
        rules.push((
            schema,
            "owner",
            json!({"pattern": blank_or_pattern(&owner_inner), "maxLength": UserName::MAX_CHARS}),
        ));
        // Years 0002–9998 as written: whatever the offset, the UTC instant is in 1–9999.
        rules.push((
            schema,
            "last_contacted_at",
            json!({"pattern": YEARS_2_TO_9998}),
        ));
        rules.push((
            schema,
            "company_domain",
            json!({"pattern": CompanyDomain::INPUT_PATTERN, "maxLength": CompanyDomain::MAX_INPUT_CHARS}),
        ));
        rules.push((
            schema,
            "custom",
            json!({
                "maxProperties": MAX_CUSTOM_PROPERTIES,
                "propertyNames": {"pattern": ContactField::CUSTOM_KEY_PATTERN},
                "additionalProperties": {
                    "type": if schema == "CreateContactRequest" { json!("string") } else { json!(["string", "null"]) },
                    "pattern": OPTIONAL_TEXT_PATTERN,
                    "maxLength": CONTACT_TEXT_CHARS,
                },
            }),
        ));
    }
    // Deals, pipelines and quotas.
    let deal_text = |max: usize| json!({"pattern": TEXT_PATTERN, "maxLength": max});
    let deal_optional_text =
        |max: usize| json!({"pattern": OPTIONAL_TEXT_PATTERN, "maxLength": max});
    let user = || json!({"pattern": UserName::PATTERN, "maxLength": UserName::MAX_CHARS});
    let contains: Vec<Value> = ["open", "won", "lost"]
        .iter()
        .map(|kind| {
            json!({"contains": {
                "type": "object", "required": ["kind"], "properties": {"kind": {"const": kind}},
            }})
        })
        .collect();
    let stages = json!({"minItems": 3, "maxItems": MAX_STAGES, "allOf": contains});
    rules.extend([
        ("CreateDealRequest", "name", deal_text(DEAL_NAME_CHARS)),
        ("CreateDealRequest", "pipeline", crm_id_rule()),
        ("CreateDealRequest", "stage", crm_id_rule()),
        ("CreateDealRequest", "owner", user()),
        ("MoveDealRequest", "stage", crm_id_rule()),
        (
            "MoveDealRequest",
            "lost_reason",
            deal_optional_text(DEAL_TEXT_CHARS),
        ),
        ("DealOwnerRequest", "owner", user()),
        (
            "LogDealActivityRequest",
            "summary",
            deal_optional_text(DEAL_TEXT_CHARS),
        ),
        (
            "DealNextStepRequest",
            "next_step",
            deal_optional_text(DEAL_TEXT_CHARS),
        ),
        ("LoseDealRequest", "reason", deal_text(DEAL_TEXT_CHARS)),
        ("ReopenDealRequest", "stage", crm_id_rule()),
        (
            "DealContactsRequest",
            "contacts",
            json!({"minItems": 1, "maxItems": MAX_CONTACTS_PER_REQUEST}),
        ),
        ("SetQuotaRequest", "owner", user()),
        (
            "SetQuotaRequest",
            "period",
            json!({"pattern": "^[1-9][0-9]{3}-(0[1-9]|1[0-2]|[Qq][1-4])$"}),
        ),
        ("DefinePipelineRequest", "id", crm_id_rule()),
        ("DefinePipelineRequest", "label", deal_text(MAX_LABEL_CHARS)),
        ("DefinePipelineRequest", "stages", stages.clone()),
        ("UpdatePipelineRequest", "label", deal_text(MAX_LABEL_CHARS)),
        ("UpdatePipelineRequest", "stages", stages),
        ("Stage", "label", deal_text(MAX_LABEL_CHARS)),
        (
            "Stage",
            "probability",
            json!({"minimum": 0, "maximum": MAX_PROBABILITY}),
        ),
    ]);
    let mut action_types: Vec<&str> = ActionType::ALL.iter().map(|t| t.as_str()).collect();
    action_types.extend(ACTION_TYPE_ALIASES.iter().map(|(alias, _)| *alias));
    let schemas = &mut doc["components"]["schemas"];
    schemas["ProposeQueueItemRequest"]["properties"]["action_type"]["enum"] = json!(action_types);
    for (schema, property, rule) in rules {
        let field = schemas[schema]["properties"]
            .get_mut(property)
            .unwrap_or_else(|| panic!("{schema}.{property} is documented"));
        for (key, value) in rule.as_object().expect("rules are objects") {
            field[key] = value.clone();
        }
    }
    // Exactly one of two fields, each present and not null (the server reads null as absent).
    let exactly_one = |a: (&str, Value), b: (&str, Value)| {
        json!({"oneOf": [
            {"required": [a.0], "properties": {a.0: a.1.clone(), b.0: {"type": "null"}}},
            {"required": [b.0], "properties": {b.0: b.1, a.0: {"type": "null"}}},
        ]})
    };
    let snooze = exactly_one(
        (
            "preset",
            json!({"$ref": "#/components/schemas/SnoozePreset"}),
        ),
        ("until", json!({"type": "string", "format": "date-time"})),
    );
    let secret = json!({"type": "string", "pattern": format!("^[{WHITESPACE}]*[^{WHITESPACE}\\x00][^\\x00]*$")});
    let sign_in = exactly_one(("link", secret.clone()), ("token", secret));
    // Amounts asked for are never negative (answers' changes may be): the request fields
    // say so in place of the shared `Money`.
    let money = json!({"allOf": [
        {"$ref": "#/components/schemas/Money"},
        {"type": "object", "properties": {"minor": {"type": "integer", "format": "int64", "minimum": 0}}},
    ]});
    let nullable_money = json!({"oneOf": [{"type": "null"}, money.clone()]});
    for (schema, property, replacement) in [
        ("CreateDealRequest", "amount", nullable_money.clone()),
        ("DealAmountRequest", "amount", nullable_money),
        ("SetQuotaRequest", "amount", money),
    ] {
        schemas[schema]["properties"][property] = replacement;
    }
    // A proposal's `source` may be sent as null: the server reads it as absent (manual).
    schemas["ProposeQueueItemRequest"]["properties"]["source"]["type"] = json!(["object", "null"]);
    // A won stage is at 100, a lost one at 0.
    schemas["Stage"]["oneOf"] = json!([
        {"properties": {"kind": {"const": "open"}}},
        {"properties": {"kind": {"const": "won"}, "probability": {"const": MAX_PROBABILITY}}},
        {"properties": {"kind": {"const": "lost"}, "probability": {"const": 0}}},
    ]);
    for (schema, one_of) in [
        ("SnoozeQueueItemRequest", snooze),
        ("SignInRequest", sign_in),
    ] {
        schemas[schema]["oneOf"] = one_of["oneOf"].clone();
    }
    // A CSV upload is any bytes but none (empty is `contact_import.empty`); whatever a client
    // sends as `text/csv` is text, so the body has no JSON type to break.
    if let Some(csv) =
        doc.pointer_mut("/paths/~1api~1contacts~1imports/post/requestBody/content/text~1csv/schema")
    {
        *csv = json!({
            "description": "The file's bytes (UTF-8 CSV); not empty",
            "not": {"const": ""},
        });
    }
    let schemas = &mut doc["components"]["schemas"];
    schemas["ImportForm"]["properties"]["file"]["minLength"] = json!(1);
    // A field change's values are whatever the field holds: text, a list, null.
    for side in ["old", "new"] {
        schemas["FieldChange"]["properties"][side] = json!({
            "$ref": "#/components/schemas/JsonValue",
            "description": "The field's value (null when empty; a list for emails and phones)",
        });
    }
    // Other parts are ignored, but their names go into a Content-Disposition header, which
    // the multipart reader refuses with control characters, quotes or backslashes in it.
    schemas["ImportForm"]["propertyNames"] =
        json!({"pattern": "^[^\\u0000-\\u001f\\u007f\"\\\\]*$"});
    // Their contents are not read: any part, whatever it holds.
    schemas["ImportForm"]["additionalProperties"] = json!(true);
    // A merge's per-field choices are keyed by contact field names.
    let field_names: Vec<String> = ContactField::NAMED
        .iter()
        .map(|f| f.name().to_string())
        .collect();
    schemas["MergePairRequest"]["properties"]["fields"]["propertyNames"] = json!({
        "type": "string",
        "pattern": format!("^({}|custom\\.[a-z0-9_]{{1,64}})$", field_names.join("|")),
    });
    // `email` is shorthand for `emails`: not both. A create reads a null as absent; an edit
    // reads a present null as "remove every address", so there even null counts.
    schemas["CreateContactRequest"]["not"] = json!({
        "required": ["email", "emails"],
        "properties": {"email": {"type": "string"}, "emails": {"type": "array"}},
    });
    schemas["EditContactRequest"]["not"] = json!({"required": ["email", "emails"]});
    // A new contact needs a name, an email or a phone (a blank name is none).
    let filled =
        |field: &str, schema: Value| json!({"required": [field], "properties": {field: schema}});
    let named = json!({"type": "string", "pattern": TEXT_PATTERN});
    schemas["CreateContactRequest"]["anyOf"] = json!([
        filled("first_name", named.clone()),
        filled("last_name", named),
        filled("email", json!({"type": "string"})),
        filled("emails", json!({"type": "array", "minItems": 1})),
        filled("phones", json!({"type": "array", "minItems": 1})),
    ]);
    // An outcome names who it is about: a move, a contact id or an address (null is none).
    schemas["RecordOutcomeRequest"]["anyOf"] = json!([
        filled("item_id", json!({"type": "string"})),
        filled("contact_id", json!({"type": "string"})),
        filled("email", json!({"type": "string"})),
    ]);
    // A shorthand id and the target's record it stands for are not both given.
    schemas["ProposeQueueItemRequest"]["allOf"] = json!(["contact", "deal", "company"]
        .iter()
        .map(|&record| {
            let shorthand = format!("{record}_id");
            json!({"not": {
                "required": [shorthand, "target"],
                "properties": {
                    shorthand: {"type": "string"},
                    "target": {"type": "object", "required": [record], "properties": {record: {"type": "object"}}},
                },
            }})
        })
        .collect::<Vec<_>>());
    // Rejecting in bulk needs a reason that is not blank (checked for the whole request;
    // other faults of the reason are answered per move, like the moves' own states).
    if let Some(body) = doc.pointer_mut(
        "/paths/~1api~1queue~1bulk~1reject/post/requestBody/content/application~1json/schema",
    ) {
        let reason = json!({
            "type": "string",
            "pattern": format!("^[^\\x00]*[^{WHITESPACE}\\x00][^\\x00]*$"),
        });
        *body = json!({"allOf": [body.clone(), {"required": ["reason"], "properties": {"reason": reason}}]});
    }
    // A body whose fields are all optional may be left out: the server reads it as `{}`.
    let schemas = doc["components"]["schemas"].clone();
    if let Some(paths) = doc["paths"].as_object_mut() {
        for operation in paths
            .values_mut()
            .filter_map(Value::as_object_mut)
            .flat_map(|item| item.values_mut())
        {
            let Some(body) = operation.get_mut("requestBody") else {
                continue;
            };
            let schema = &body["content"]["application/json"]["schema"];
            if schema.is_null() {
                // Not a JSON body (a CSV upload): there is no `{}` to read it as.
                continue;
            }
            let resolved = match schema["$ref"].as_str() {
                Some(r) => &schemas[r.trim_start_matches("#/components/schemas/")],
                None => schema,
            };
            // An array body (a webhook delivery) is never read as `{}`.
            let needs_fields = resolved["type"] == "array"
                || resolved["required"]
                    .as_array()
                    .is_some_and(|r| !r.is_empty())
                || resolved.get("oneOf").is_some()
                || resolved.get("anyOf").is_some()
                || resolved.get("allOf").is_some();
            if !needs_fields {
                body["required"] = json!(false);
            }
        }
    }
}

/// Instants written in the years 0002–9998: whatever the offset, the UTC instant is in
/// 1–9999 (what the database and the cursors hold).
const YEARS_2_TO_9998: &str =
    "^(000[2-9]|00[1-9][0-9]|0[1-9][0-9]{2}|[1-8][0-9]{3}|9[0-8][0-9]{2}|99[0-8][0-9]|999[0-8])-";

/// What `str::trim` removes (`char::is_whitespace`), as the body of a regex class.
const WHITESPACE: &str =
    r"\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000";

/// Comma-separated filters of list operations and the names each value may take, from the
/// types themselves.
fn list_filters() -> Vec<(String, &'static str, Vec<String>)> {
    fn names<T: Copy>(all: &[T], name: fn(T) -> &'static str) -> Vec<String> {
        all.iter().map(|v| name(*v).to_string()).collect()
    }
    let mut filters = vec![
        (
            "/api/queue".to_string(),
            "status",
            names(QueueStatus::ALL, QueueStatus::as_str),
        ),
        (
            "/api/queue".to_string(),
            "action_type",
            names(ActionType::ALL, ActionType::as_str),
        ),
        (
            "/api/queue".to_string(),
            "domain",
            names(QueueDomain::ALL, QueueDomain::as_str),
        ),
    ];
    for path in ["/api/queue/export.csv"] {
        for (parameter, values) in [
            ("status", names(QueueStatus::ALL, QueueStatus::as_str)),
            ("action_type", names(ActionType::ALL, ActionType::as_str)),
            ("domain", names(QueueDomain::ALL, QueueDomain::as_str)),
        ] {
            filters.push((path.to_string(), parameter, values));
        }
    }
    let sources = [
        ContactSource::Manual,
        ContactSource::Import,
        ContactSource::Hubspot,
    ];
    for path in ["/api/contacts", "/api/contacts/export.csv"] {
        let mut statuses = names(ContactStatus::ALL, ContactStatus::as_str);
        statuses.push("all".into());
        filters.push((path.to_string(), "status", statuses));
        filters.push((
            path.to_string(),
            "lifecycle_stage",
            names(LifecycleStage::ALL, LifecycleStage::as_str),
        ));
        filters.push((
            path.to_string(),
            "source",
            names(&sources, ContactSource::as_str),
        ));
    }
    let mut alert_statuses = names(AlertStatus::ALL, AlertStatus::as_str);
    alert_statuses.push("all".into());
    let mut pair_statuses = names(PairStatus::ALL, PairStatus::as_str);
    pair_statuses.push("all".into());
    filters.extend([
        ("/api/alerts".to_string(), "status", alert_statuses),
        (
            "/api/alerts".to_string(),
            "kind",
            names(AlertKind::ALL, AlertKind::as_str),
        ),
        (
            "/api/alerts".to_string(),
            "severity",
            names(AlertSeverity::ALL, AlertSeverity::as_str),
        ),
        (
            "/api/hygiene/duplicates".to_string(),
            "status",
            pair_statuses,
        ),
    ]);
    filters.extend([
        (
            "/api/signals".to_string(),
            "source",
            names(SignalSource::ALL, SignalSource::as_str),
        ),
        (
            "/api/signals".to_string(),
            "kind",
            names(SignalKind::ALL, SignalKind::as_str),
        ),
        (
            "/api/signals".to_string(),
            "status",
            crate::api::signals::STATUS_FILTERS
                .iter()
                .map(|s| s.to_string())
                .collect(),
        ),
        (
            "/api/executions".to_string(),
            "status",
            names(ExecutionStatus::ALL, ExecutionStatus::as_str),
        ),
    ]);
    let run_lists = [
        "/api/agent-runs".to_string(),
        "/api/agents/{name}/runs".to_string(),
    ]
    .into_iter()
    .chain(
        caseyos_agents::REGISTRY
            .iter()
            .map(|spec| format!("/api/agents/{}/runs", spec.name)),
    );
    for path in run_lists {
        filters.push((
            path.clone(),
            "status",
            names(RunStatus::ALL, RunStatus::as_str),
        ));
        filters.push((path, "trigger", names(RunTrigger::ALL, RunTrigger::as_str)));
    }
    filters
}

/// `a,b,c` of `names`, or empty; a name `all` stands alone (it means every value).
fn list_pattern(names: &[String]) -> String {
    let values: Vec<String> = names
        .iter()
        .filter(|n| *n != "all")
        .map(|n| n.replace('.', "\\."))
        .collect();
    let one = format!("({})", values.join("|"));
    let list = format!("{one}(,{one})*");
    if names.iter().any(|n| n == "all") {
        format!("^(all|{list})?$")
    } else {
        format!("^({list})?$")
    }
}

/// A path as a JSON pointer segment.
fn escape(path: &str) -> String {
    path.replace('~', "~0").replace('/', "~1")
}

/// No text CaseyOS takes can hold U+0000 (PostgreSQL cannot store it; the API refuses it
/// with 422 or 400): every string the document describes says so, and free-form objects
/// hold only such JSON.
fn forbid_nul(doc: &mut Value) {
    const NO_NUL: &str = "^[^\\x00]*$";
    fn walk(node: &mut Value) {
        match node {
            Value::Object(map) => {
                let types: Vec<&str> = match map.get("type") {
                    Some(Value::String(t)) => vec![t.as_str()],
                    Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
                    _ => vec![],
                };
                let (string, object) = (types.contains(&"string"), types.contains(&"object"));
                let constrained = ["enum", "const", "format", "pattern"]
                    .iter()
                    .any(|k| map.contains_key(*k));
                if string && !constrained {
                    map.insert("pattern".into(), json!(NO_NUL));
                }
                // An object that takes keys it does not name (a free-form one, or one whose
                // reader ignores unknown fields) takes them without NUL, as the body reader
                // does.
                if object && !map.contains_key("additionalProperties") {
                    // A stricter rule a schema gives its keys stays.
                    map.entry("propertyNames")
                        .or_insert_with(|| json!({"pattern": NO_NUL}));
                    map.insert(
                        "additionalProperties".into(),
                        json!({"$ref": "#/components/schemas/JsonValue"}),
                    );
                }
                for (key, value) in map.iter_mut() {
                    if key != "example" && key != "examples" {
                        walk(value);
                    }
                }
            }
            Value::Array(items) => items.iter_mut().for_each(walk),
            _ => {}
        }
    }
    walk(doc);
    doc["components"]["schemas"]["JsonValue"] = json!({
        "description": "Any JSON value whose strings and keys do not contain U+0000",
        "type": ["null", "boolean", "number", "string", "array", "object"],
        "pattern": NO_NUL,
        "items": {"$ref": "#/components/schemas/JsonValue"},
        "propertyNames": {"pattern": NO_NUL},
        "additionalProperties": {"$ref": "#/components/schemas/JsonValue"},
    });
}

fn add_shared_responses(doc: &mut Value) {
    let components = doc
        .as_object_mut()
        .expect("the document is an object")
        .entry("components")
        .or_insert_with(|| json!({}));
    let responses = components
        .as_object_mut()
        .expect("components is an object")
        .entry("responses")
        .or_insert_with(|| json!({}));
    for (_, name, description) in SHARED {
        responses[*name] = json!({
            "description": description,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorEnvelope"}}},
        });
    }
}

/// Which shared responses an operation can answer with.
fn refine_operation(method: &str, operation: &mut Map<String, Value>) {
    optional_body_is_absent_not_null(operation);
    let mut idempotent = false;
    let mut reads_consistently = false;
    if let Some(parameters) = operation
        .get_mut("parameters")
        .and_then(Value::as_array_mut)
    {
        for parameter in parameters.iter_mut() {
            match parameter["name"].as_str() {
                Some("Idempotency-Key") if parameter["in"] == "header" => {
                    parameter["schema"] = idempotency_key_schema();
                    idempotent = true;
                }
                Some("after") if parameter["in"] == "query" => reads_consistently = true,
                _ => {}
            }
        }
    }
    let has_parameters = operation
        .get("parameters")
        .and_then(Value::as_array)
        .is_some_and(|p| !p.is_empty());
    let has_body = operation.contains_key("requestBody");
    let secured = operation
        .get("security")
        .and_then(Value::as_array)
        .is_some_and(|s| {
            s.iter()
                .any(|r| r.as_object().is_some_and(|r| !r.is_empty()))
        });
    let changes_state = !matches!(method, "get" | "head" | "options");

    let mut wanted = Vec::new();
    if has_parameters || has_body {
        wanted.push("400");
    }
    if secured {
        wanted.push("401");
        if changes_state {
            wanted.push("403");
        }
    }
    if idempotent {
        wanted.extend(["409", "422"]);
    }
    if has_body {
        wanted.extend(["413", "415", "422"]);
    }
    if reads_consistently {
        wanted.push("503");
    }
    let responses = operation
        .entry("responses")
        .or_insert_with(|| json!({}))
        .as_object_mut()
        .expect("responses is an object");
    for status in wanted {
        if responses.contains_key(status) {
            continue;
        }
        let (_, name, _) = SHARED
            .iter()
            .find(|(s, _, _)| *s == status)
            .expect("every wanted status is shared");
        responses.insert(
            status.to_string(),
            json!({"$ref": format!("#/components/responses/{name}")}),
        );
    }
}

/// utoipa writes an optional body as `oneOf: [null, T]`; the server reads an absent (empty)
/// body as `{}` and refuses JSON `null` like any other non-object, so the document says:
/// not required, and when present, a `T`.
fn optional_body_is_absent_not_null(operation: &mut Map<String, Value>) {
    let Some(body) = operation.get_mut("requestBody") else {
        return;
    };
    let mut optional = false;
    if let Some(content) = body["content"].as_object_mut() {
        for media in content.values_mut() {
            let Some(choices) = media["schema"]["oneOf"].as_array() else {
                continue;
            };
            let not_null: Vec<&Value> = choices.iter().filter(|c| c["type"] != "null").collect();
            if not_null.len() == 1 && choices.len() == 2 {
                media["schema"] = not_null[0].clone();
                optional = true;
            }
        }
    }
    if optional {
        body["required"] = json!(false);
    }
}

/// An agent's run operation: its name, what it does, its input's schema and an example.
pub struct AgentOperation {
    pub name: &'static str,
    pub description: &'static str,
    pub input_schema: Value,
    pub example: Value,
}

/// The generic `POST /api/agents/{name}/runs` cannot say which input is valid, because that
/// depends on the agent; the document lists one operation per agent instead, each with its
/// agent's input schema, so every input the document allows is one the server accepts.
fn split_agent_runs(doc: &mut Value, agents: &[AgentOperation]) {
    const GENERIC: &str = "/api/agents/{name}/runs";
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else {
        return;
    };
    let Some(generic) = paths.get_mut(GENERIC).and_then(Value::as_object_mut) else {
        return;
    };
    let Some(template) = generic.remove("post") else {
        return;
    };
    // The concrete paths answer GET too (the runs of that agent), so they say so.
    let listing = generic.get("get").cloned();
    for agent in agents {
        let mut operation = template.clone();
        operation["operationId"] = json!(format!("run_{}", agent.name));
        operation["summary"] = json!(format!("Run {}", agent.name));
        operation["description"] = json!(format!(
            "{} The run is queued and picked up by a worker; poll the run (or follow \
             `/api/events`) to see it end. The same as `POST /api/agents/{{name}}/runs` with \
             `name` = `{}` (names also match ignoring case, `-`/`_` and an `Agent` suffix).",
            agent.description, agent.name
        ));
        if let Some(parameters) = operation["parameters"].as_array_mut() {
            parameters.retain(|p| p["name"] != "name");
        }
        // An absent `input` is `{}`: required exactly when `{}` is not a valid input.
        let input_required = agent.input_schema["required"]
            .as_array()
            .is_some_and(|fields| !fields.is_empty());
        let required: &[&str] = if input_required { &["input"] } else { &[] };
        operation["requestBody"] = json!({
            "required": input_required,
            "content": {"application/json": {
                "schema": {
                    "type": "object",
                    "additionalProperties": false,
                    "required": required,
                    // Absent or null reads as `{}`.
                    "properties": {"input": if input_required {
                        agent.input_schema.clone()
                    } else {
                        json!({"anyOf": [{"type": "null"}, agent.input_schema]})
                    }},
                },
                "example": {"input": agent.example},
            }},
        });
        if let Some(responses) = operation["responses"].as_object_mut() {
            // The agent is named by the path: it always exists.
            responses.remove("404");
        }
        let mut item = json!({"post": operation});
        if let Some(mut list) = listing.clone() {
            list["operationId"] = json!(format!("list_runs_of_{}", agent.name));
            list["summary"] = json!(format!("Runs of {}", agent.name));
            if let Some(parameters) = list["parameters"].as_array_mut() {
                parameters.retain(|p| p["name"] != "name");
            }
            if let Some(responses) = list["responses"].as_object_mut() {
                responses.remove("404");
            }
            item["get"] = list;
        }
        paths.insert(format!("/api/agents/{}/runs", agent.name), item);
    }
    // The template itself is not listed: every name it takes has its own path now, and
    // clients would otherwise read it as a path without POST.
    paths.remove(GENERIC);
}

/// Links from an answer to the calls it makes possible, for clients (and stateful fuzzers)
/// that follow them.
fn add_links(doc: &mut Value) {
    // A run's answer is the run itself (flattened), so its id is at the top.
    let run_ids = json!({"id": "$response.body#/id"});
    let item_ids = json!({"id": "$response.body#/item/id"});
    let mut links: Vec<(String, &str, &str, Value)> = vec![(
        "/api/queue".into(),
        "post",
        "201",
        json!({
            "approve": {"operationId": "approve_queue_item", "parameters": item_ids,
                        "description": "Approve the proposed move"},
            "reject": {"operationId": "reject_queue_item", "parameters": item_ids,
                       "description": "Reject the proposed move"},
            "snooze": {"operationId": "snooze_queue_item", "parameters": item_ids,
                       "description": "Snooze the proposed move"},
            "edit": {"operationId": "edit_queue_item", "parameters": item_ids,
                     "description": "Edit the proposed move"},
            "get": {"operationId": "get_queue_item", "parameters": item_ids,
                    "description": "Read the move"},
            "audit": {"operationId": "get_audit",
                      "parameters": {"aggregate_type": QueueItem::TYPE,
                                     "aggregate_id": "$response.body#/item/id"},
                      "description": "Its history"},
        }),
    )];
    let run_links = json!({
        "get": {"operationId": "get_agent_run", "parameters": run_ids,
                "description": "Read the run"},
        "retry": {"operationId": "retry_agent_run", "parameters": run_ids,
                  "description": "Retry the run once it has failed, timed out or been cancelled"},
        "cancel": {"operationId": "cancel_agent_run", "parameters": run_ids,
                   "description": "Cancel the run"},
        "dismiss": {"operationId": "dismiss_agent_run", "parameters": run_ids,
                    "description": "Dismiss the finished run"},
        "audit": {"operationId": "get_audit",
                  "parameters": {"aggregate_type": AgentRun::TYPE,
                                 "aggregate_id": "$response.body#/id"},
                  "description": "Its history"},
    });
    let Some(paths) = doc.get("paths").and_then(Value::as_object) else {
        return;
    };
    for (path, item) in paths {
        if path.starts_with("/api/agents/") && path.ends_with("/runs") && item.get("post").is_some()
        {
            links.push((path.clone(), "post", "202", run_links.clone()));
        }
    }
    links.push((
        "/api/agent-runs/{id}/retry".into(),
        "post",
        "202",
        run_links.clone(),
    ));
    for (path, method, status, links) in links {
        if let Some(response) = doc
            .pointer_mut(&format!(
                "/paths/{}/{method}/responses/{status}",
                escape(&path)
            ))
            .and_then(Value::as_object_mut)
        {
            response.insert("links".into(), links);
        }
    }
}
