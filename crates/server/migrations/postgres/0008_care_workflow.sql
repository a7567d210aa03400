-- The care workflow, first slice (issue 12): topics, triage states and system lines in
-- conversations, and who may write to a doctor. The same schema as
-- migrations/sqlite/0009_care_workflow.sql; docs/protocol.md, "Care workflow", gives the rules.

-- What a request is about. Conversations started before topics existed count as a medical
-- question.
ALTER TABLE conversations ADD COLUMN topic TEXT NOT NULL DEFAULT 'medical_question'
    CHECK (topic IN ('prescription_renewal', 'test_results', 'administrative', 'certificate',
                     'medical_question'));
-- Where it stands in the doctor's queue: 'done' exactly when status is 'closed' (kept by the
-- code that closes and reopens, in the same statement).
ALTER TABLE conversations ADD COLUMN triage TEXT NOT NULL DEFAULT 'new'
    CHECK (triage IN ('new', 'in_progress', 'waiting_patient', 'done'));
-- When it entered that state.
ALTER TABLE conversations ADD COLUMN triage_at BIGINT NOT NULL DEFAULT 0;
-- Since when the patient waits for the doctor: their first message after the doctor's latest
-- one; NULL when the doctor wrote last (or nobody wrote, or it is closed).
ALTER TABLE conversations ADD COLUMN waiting_since BIGINT;

-- Existing conversations: closed ones are done; open ones are in progress once the doctor has
-- written in them, new otherwise; the patient waits since their first unanswered message.
UPDATE conversations SET
    triage = CASE
        WHEN status = 'closed' THEN 'done'
        WHEN EXISTS (SELECT 1 FROM messages d
                     WHERE d.conversation_id = conversations.id
                       AND d.sender_id = conversations.doctor_id) THEN 'in_progress'
        ELSE 'new' END,
    triage_at = last_activity_at,
    waiting_since = CASE WHEN status = 'closed' THEN NULL ELSE (
        SELECT MIN(p.sent_at) FROM messages p
        WHERE p.conversation_id = conversations.id AND p.sender_id = conversations.patient_id
          AND p.seq > COALESCE((SELECT MAX(d.seq) FROM messages d
                                WHERE d.conversation_id = conversations.id
                                  AND d.sender_id = conversations.doctor_id), 0)) END;

-- A message is text, or a line the server wrote for a change of the conversation (closing:
-- the body is the doctor's reason; reopening). System lines take a seq like any message, so
-- they are delivered, caught up and never doubled the same way.
ALTER TABLE messages ADD COLUMN kind TEXT NOT NULL DEFAULT 'text'
    CHECK (kind IN ('text', 'closed', 'reopened'));

-- Who may start a conversation with a doctor. No row: the default (the care team; 12 months
-- for the recent-patients mode).
CREATE TABLE intake_settings (
    doctor_id  BIGINT  PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    mode       TEXT    NOT NULL CHECK (mode IN ('off', 'care_team', 'recent_patients')),
    months     BIGINT  NOT NULL CHECK (months BETWEEN 1 AND 24),
    updated_at BIGINT  NOT NULL
);

-- Patients a doctor does not take messages from, whatever the mode.
CREATE TABLE patient_blocks (
    doctor_id  BIGINT  NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    patient_id BIGINT  NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at BIGINT  NOT NULL,
    PRIMARY KEY (doctor_id, patient_id)
);
