//! The `Browser` verbs of a conversation: opening one from an appointment (choosing the
//! request's topic when it starts), writing, waiting for a message's status.

use super::{Browser, child_testid};
use fantoccini::elements::Element;

impl Browser {
    /// From the patient's appointments page, opens the conversation with the doctor of the
    /// appointment whose card names `doctor` (through that card's MessagingButton). With no
    /// open conversation yet, the request is started as a medical question.
    pub async fn open_conversation_from_appointment(&self, doctor: &str) {
        self.goto("/patient/rendez-vous").await;
        let card = self
            .wait_for_element_containing("[data-testid='appointment-card']", doctor)
            .await;
        child_testid(&card, "messaging-button")
            .await
            .expect("each appointment card has a messaging button")
            .click()
            .await
            .expect("click the appointment's messaging button");
        // Either the conversation opens, or the request asks for its topic first.
        let picker = self
            .wait_until(|| async {
                if self
                    .find_css("[data-testid='composer-input']")
                    .await
                    .is_some()
                {
                    return Some(false);
                }
                self.find_css("[data-testid='topic-picker']")
                    .await
                    .map(|_| true)
            })
            .await;
        if picker {
            self.choose_topic("medical_question").await;
        }
    }

    /// From the conversation list at `inbox` (`/patient/messages`, `/medecin/messages`), opens
    /// the conversation whose entry names `name`, and waits for its composer.
    pub async fn open_conversation_named(&self, inbox: &str, name: &str) {
        self.goto(inbox).await;
        self.open_listed_conversation(name).await;
    }

    /// In the conversation list on screen, opens the conversation whose entry names `name`,
    /// and waits for its composer.
    pub async fn open_listed_conversation(&self, name: &str) {
        self.wait_for_element_containing("[data-testid='conversation-item']", name)
            .await
            .click()
            .await
            .expect("open the conversation");
        self.wait_testid("composer-input").await;
    }

    /// Follows the app's own link to `href` (an in-app navigation, as a click on it would be,
    /// even when the link sits in a closed phone menu).
    pub async fn follow_app_link(&self, href: &str) {
        self.execute(
            "document.querySelector(`a[href='${arguments[0]}']`).click();",
            vec![serde_json::json!(href)],
        )
        .await;
    }

    /// In an open topic picker, starts the request about `topic` (its wire name).
    pub async fn choose_topic(&self, topic: &str) {
        self.click_testid(&format!("topic-{topic}")).await;
        self.wait_testid("composer-input").await;
    }

    /// Types `text` into the composer and presses send.
    pub async fn write(&self, text: &str) {
        self.wait_testid("composer-input")
            .await
            .send_keys(text)
            .await
            .expect("type into the composer");
        // The button is disabled while the composer is blank, until the app has rendered
        // the typed text: on a loaded machine a click right after typing can land before that
        // render, on a disabled button, and nothing is sent.
        let send = self
            .wait_until(|| async {
                let button = self.find_css("[data-testid='composer-send']").await?;
                button.is_enabled().await.ok()?.then_some(button)
            })
            .await;
        send.click().await.expect("click composer-send");
    }

    /// The message whose text contains `text`, once it shows `status` (`sending`, `sent`,
    /// `failed`).
    pub async fn wait_message(&self, status: &str, text: &str) -> Element {
        let css = format!("[data-testid='message'][data-status='{status}']");
        self.wait_for_element_containing(&css, text).await
    }
}
