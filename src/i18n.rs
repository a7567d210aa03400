//! The one translation table. French is the default; English is a switch. The choice is kept
//! in localStorage (a UI preference, not health data). Every UI string goes through [`Key`],
//! and every [`ErrorCode`] has a plain-words message ([`error_key`]).

use colloque_protocol::ErrorCode;

const STORAGE_KEY: &str = "colloque.lang";

/// A UI language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub enum Lang {
    /// Français (default).
    #[default]
    Fr,
    /// English.
    En,
}

impl Lang {
    /// The BCP 47 tag, for `<html lang>` and date formatting.
    pub fn locale(self) -> &'static str {
        match self {
            Lang::Fr => "fr-FR",
            Lang::En => "en-GB",
        }
    }

    /// The other language (the switch offers it).
    pub fn other(self) -> Lang {
        match self {
            Lang::Fr => Lang::En,
            Lang::En => Lang::Fr,
        }
    }
}

// A key may carry `#[cfg(feature = "second-build")]`: its words are then only in the second build
// (src/second_build.rs), and the patient's first load does not pay for them.
//
// The English words are compiled in where the bytes do not count (the host's tests, the second
// build). The first-load build leaves them out (2.2 KB of its brotli wasm) and fetches them,
// `/en.json` (static/en.json, written from this table: see [`english`]), when English is chosen:
// a French speaker never downloads them.
macro_rules! table {
    ($($(#[$meta:meta])* $key:ident => $fr:literal, $en:literal;)*) => {
        /// A translatable string. `{}` in a text is filled by [`I18n::tf`].
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum Key { $($(#[$meta])* $key),* }

        impl Key {
            /// Every key, for completeness tests.
            pub const ALL: &'static [Key] = &[$($(#[$meta])* Key::$key),*];

            /// The text in `lang`: arrays in the order of the keys, which the compiler keeps
            /// as data, where a `match` on (key, language) was 8 KB of code in the wasm. In
            /// the first-load build, a word not fetched yet is the French one.
            pub fn text(self, lang: Lang) -> &'static str {
                const FR: &[&str] = &[$($(#[$meta])* $fr),*];
                #[cfg(any(not(target_arch = "wasm32"), feature = "second-build"))]
                const EN: &[&str] = &[$($(#[$meta])* $en),*];
                match lang {
                    Lang::Fr => FR[self as usize],
                    #[cfg(any(not(target_arch = "wasm32"), feature = "second-build"))]
                    Lang::En => EN[self as usize],
                    #[cfg(all(target_arch = "wasm32", not(feature = "second-build")))]
                    Lang::En => english::word(self as usize).unwrap_or(FR[self as usize]),
                }
            }
        }

        /// A fingerprint of this build's words in both languages, in the order of the keys:
        /// `/en.json` starts with it, so a file from another build is never taken for this
        /// one's. Computed by the compiler: the English words it reads stay out of the wasm.
        pub const FINGERPRINT: u32 = english::fingerprint(
            &[$($(#[$meta])* $fr),*],
            &[$($(#[$meta])* $en),*],
        );
    };
}

table! {
    AppName => "Colloque", "Colloque";
    Tagline => "Messagerie sécurisée entre patients et médecins", "Secure messaging between patients and doctors";
    SkipToContent => "Aller au contenu", "Skip to content";
    NavMain => "Navigation principale", "Main navigation";
    NavHome => "Accueil", "Home";
    NavAppointments => "Mes rendez-vous", "My appointments";
    NavCareTeam => "Mon équipe de soins", "My care team";
    #[cfg(feature = "second-build")]
    NavMessages => "Messagerie", "Messages";
    #[cfg(feature = "second-build")]
    NavTemplates => "Modèles de réponse", "Reply templates";
    NavPatients => "Mes patients", "My patients";
    NavSecurity => "Sécurité", "Security";
    #[cfg(feature = "second-build")]
    NotificationsTitle => "Être prévenu", "Notifications";
    #[cfg(feature = "second-build")]
    TypingTitle => "Pendant que vous écrivez", "While you write";
    #[cfg(feature = "second-build")]
    ShareTyping => "Montrer à mon interlocuteur quand j’écris un message", "Show the other person when I am writing a message";
    #[cfg(feature = "second-build")]
    NotificationsIntro => "Un e-mail vous dit seulement qu’un message vous attend sur Colloque : jamais qui l’a écrit ni ce qu’il dit.", "An e-mail only tells you that a message is waiting on Colloque: never who wrote it nor what it says.";
    #[cfg(feature = "second-build")]
    EmailNotices => "Me prévenir par e-mail d’un message non lu", "E-mail me about an unread message";
    #[cfg(feature = "second-build")]
    PushNotices => "Me prévenir par une notification sur mes appareils inscrits", "Notify me on my signed-up devices";
    #[cfg(feature = "second-build")]
    QuietHoursToggle => "Pas de notification la nuit", "No notifications at night";
    #[cfg(feature = "second-build")]
    QuietFrom => "De", "From";
    #[cfg(feature = "second-build")]
    QuietTo => "À", "To";
    #[cfg(feature = "second-build")]
    BrowserNotices => "Me prévenir aussi dans ce navigateur quand Colloque est ouvert dans un autre onglet", "Also tell me in this browser when Colloque is open in another tab";
    #[cfg(feature = "second-build")]
    BrowserNoticesOn => "Ce navigateur vous prévient d’un nouveau message.", "This browser tells you about a new message.";
    #[cfg(feature = "second-build")]
    BrowserNoticesBlocked => "Ce navigateur refuse les notifications de Colloque : autorisez-les dans ses réglages.", "This browser blocks Colloque’s notifications: allow them in its settings.";
    #[cfg(feature = "second-build")]
    PushDevice => "Notifications sur cet appareil", "Notifications on this device";
    #[cfg(feature = "second-build")]
    PushDeviceHelp => "Un court avis, sans rien du message, même quand Colloque est fermé.", "A short notice, with nothing of the message, even when Colloque is closed.";
    #[cfg(feature = "second-build")]
    PushStart => "Recevoir les notifications sur cet appareil", "Get notifications on this device";
    #[cfg(feature = "second-build")]
    PushStop => "Arrêter sur cet appareil", "Stop on this device";
    #[cfg(feature = "second-build")]
    PushOn => "Cet appareil reçoit les notifications de Colloque.", "This device gets Colloque’s notifications.";
    #[cfg(feature = "second-build")]
    PushUnsupported => "Ce navigateur ne peut pas recevoir les notifications de Colloque.", "This browser cannot receive Colloque’s notifications.";
    #[cfg(feature = "second-build")]
    PushDenied => "Les notifications sont bloquées : autorisez-les pour Colloque dans les réglages du navigateur, puis réessayez.", "Notifications are blocked: allow them for Colloque in the browser’s settings, then try again.";
    #[cfg(feature = "second-build")]
    PushFailed => "Les notifications n’ont pas pu être activées sur cet appareil. Réessayez plus tard.", "Notifications could not be turned on for this device. Try again later.";
    #[cfg(feature = "second-build")]
    PushShared => "Pas de notifications sur un ordinateur partagé.", "No notifications on a shared computer.";
    Logout => "Se déconnecter", "Sign out";
    Menu => "Menu", "Menu";
    IdleUnsentOne => "Un message n’est pas encore parti : il sera effacé de cet appareil à la déconnexion.", "One message has not been sent yet: it will be deleted from this device when you are signed out.";
    IdleUnsentMany => "{} messages ne sont pas encore partis : ils seront effacés de cet appareil à la déconnexion.", "{} messages have not been sent yet: they will be deleted from this device when you are signed out.";
    LogoutUnsentTitle => "Messages non envoyés", "Unsent messages";
    LogoutUnsentOne => "Un message n’est pas encore parti. Si vous vous déconnectez maintenant, il sera effacé de cet appareil.", "One message has not been sent yet. If you sign out now, it will be deleted from this device.";
    LogoutUnsentMany => "{} messages ne sont pas encore partis. Si vous vous déconnectez maintenant, ils seront effacés de cet appareil.", "{} messages have not been sent yet. If you sign out now, they will be deleted from this device.";
    LogoutAnyway => "Se déconnecter quand même", "Sign out anyway";
    LangSwitchText => "English", "Français";
    LangSwitchLabel => "Switch to English", "Passer en français";
    Loading => "Chargement…", "Loading…";
    Retry => "Réessayer", "Try again";
    ConnOnline => "Connecté", "Connected";
    ConnConnecting => "Connexion…", "Connecting…";
    ConnOffline => "Hors ligne : vos messages partiront au retour de la connexion", "Offline: your messages will be sent when the connection is back";
    ConnLabel => "État de la connexion", "Connection status";
    ConnPaused => "Colloque est ouvert dans trop d’onglets ; cet onglet s’est mis en pause.", "Colloque is open in too many tabs; this tab has paused.";
    ConnResume => "Reprendre ici", "Resume here";
    EmergencyNote => "La messagerie n’est pas faite pour les urgences. En cas d’urgence, appelez le 15 ou le 112.", "Messaging is not for emergencies. In an emergency, call 15 or 112.";
    RedFlagTitle => "Votre message parle peut-être d’une urgence", "Your message may describe an emergency";
    RedFlagText => "La messagerie n’est pas faite pour les urgences : votre médecin peut ne pas lire ce message avant plusieurs heures, voire plusieurs jours.", "Messaging is not for emergencies: your doctor may not read this message for hours, or even days.";
    RedFlagCallNow => "Si c’est urgent, appelez maintenant :", "If it is urgent, call now:";
    RedFlagCall15 => "Appeler le 15 (SAMU)", "Call 15 (SAMU, medical emergencies)";
    RedFlagCall112 => "Appeler le 112 (urgences)", "Call 112 (emergencies)";
    RedFlagCall3114 => "Appeler le 3114 (prévention du suicide, 24 h/24)", "Call 3114 (suicide prevention, day and night)";
    RedFlagEdit => "Modifier mon message", "Edit my message";
    RedFlagSendAnyway => "Envoyer quand même", "Send anyway";
    RedFlagSendAnywayNote => "Envoyé quand même, votre message apparaîtra en tête de la liste de votre médecin, marqué urgent.", "Sent anyway, your message will be at the top of your doctor’s list, marked urgent.";
    UrgentMark => "Urgent", "Urgent";
    #[cfg(feature = "second-build")]
    PatientPanelLabel => "Le patient", "The patient";
    #[cfg(feature = "second-build")]
    PanelNextAppointment => "Prochain rendez-vous", "Next appointment";
    #[cfg(feature = "second-build")]
    LastAppointment => "Dernier rendez-vous", "Last appointment";
    #[cfg(feature = "second-build")]
    NoNextAppointment => "aucun à venir", "none to come";
    #[cfg(feature = "second-build")]
    NoLastAppointment => "aucun", "none";
    #[cfg(feature = "second-build")]
    AppointmentsUnavailable => "Rendez-vous indisponibles pour le moment.", "Appointments are unavailable for now.";
    #[cfg(feature = "second-build")]
    OtherConversations => "Autres échanges avec ce patient :", "Other exchanges with this patient:";
    #[cfg(feature = "second-build")]
    NoOtherConversations => "aucun", "none";
    LoginTitle => "Connexion", "Sign in";
    LoginIntro => "Connectez-vous pour écrire à votre équipe de soins.", "Sign in to write to your care team.";
    Email => "Adresse e-mail", "Email address";
    Password => "Mot de passe", "Password";
    LoginSubmit => "Se connecter", "Sign in";
    LoginPending => "Connexion en cours…", "Signing in…";
    SharedComputer => "Ordinateur partagé", "Shared computer";
    SharedComputerHelp => "Rien ne sera gardé dans ce navigateur. Un message pas encore envoyé sera perdu si vous fermez ou rechargez la page, et il faudra vous reconnecter.", "Nothing will be kept in this browser. A message not sent yet will be lost if you close or reload the page, and you will have to sign in again.";
    OutboxUnkept => "Pas de connexion pour l’instant : vos messages en attente ne sont gardés que dans cette page. Ne la fermez pas et ne la rechargez pas avant qu’ils soient partis.", "No connection for now: your waiting messages are kept in this page only. Do not close or reload it before they have gone.";
    SecondBuildWaits => "Cette page s’ouvrira dès que vos messages en attente seront partis ou gardés sur cet appareil : l’ouvrir maintenant les effacerait.", "This page will open as soon as your waiting messages have gone or are kept on this device: opening it now would erase them.";
    SecondBuildOffline => "Cette page s’ouvrira dès que la connexion sera revenue.", "This page will open as soon as the connection is back.";
    OutboxWaitingOne => "Un message écrit sur cet appareil n’est pas encore parti : il s’affichera et partira dès que la connexion reviendra.", "One message written on this device has not been sent yet: it will show and go as soon as the connection is back.";
    OutboxWaitingMany => "{} messages écrits sur cet appareil ne sont pas encore partis : ils s’afficheront et partiront dès que la connexion reviendra.", "{} messages written on this device have not been sent yet: they will show and go as soon as the connection is back.";
    OutboxUnreadable => "Des messages non envoyés gardés sur cet appareil n’ont pas pu être relus ({}) : ils ont été supprimés. Écrivez-les de nouveau si besoin.", "Unsent messages kept on this device could not be read back ({}): they were deleted. Please write them again if needed.";
    OutboxExpired => "Des messages non envoyés depuis plus de 24 heures ont été supprimés de cet appareil ({}). Écrivez-les de nouveau si besoin.", "Unsent messages older than 24 hours were deleted from this device ({}). Please write them again if needed.";
    OutboxNoticeOk => "J’ai compris", "Got it";
    Hello => "Bonjour {}", "Hello {}";
    NextAppointment => "Votre prochain rendez-vous", "Your next appointment";
    NoUpcomingAppointment => "Aucun rendez-vous à venir.", "No upcoming appointment.";
    MyDoctors => "Mes médecins", "My doctors";
    NoDoctors => "Aucun médecin dans votre équipe de soins.", "No doctor in your care team yet.";
    AppointmentsTitle => "Mes rendez-vous", "My appointments";
    Upcoming => "À venir", "Upcoming";
    Past => "Passés", "Past";
    NoAppointments => "Aucun rendez-vous.", "No appointments.";
    DurationMinutes => "{} min", "{} min";
    // With the colon: French puts a space before it, English does not.
    Where => "Lieu :", "Where:";
    Why => "Motif :", "Reason:";
    CareTeamTitle => "Mon équipe de soins", "My care team";
    #[cfg(feature = "second-build")]
    PatientsTitle => "Mes patients", "My patients";
    #[cfg(feature = "second-build")]
    NoPatients => "Aucun patient suivi pour l’instant.", "No patients yet.";
    OpenInbox => "Messagerie", "Messages";
    UnreadOne => "message non lu", "unread message";
    UnreadMany => "messages non lus", "unread messages";
    WriteToDoctor => "Écrire au {}", "Write to {}";
    WriteTo => "Écrire à {}", "Write to {}";
    Opening => "Ouverture…", "Opening…";
    InboxTitle => "Messagerie", "Messages";
    ConversationsLabel => "Conversations", "Conversations";
    SearchLabel => "Rechercher par nom", "Search by name";
    UnreadOnly => "Non lus seulement", "Unread only";
    NoConversations => "Aucune conversation pour l’instant.", "No conversations yet.";
    NoMatch => "Aucune conversation ne correspond.", "No conversation matches.";
    SelectConversation => "Choisissez une conversation pour l’afficher.", "Choose a conversation to read it.";
    NoMessagesYet => "Aucun message pour l’instant. Écrivez le premier.", "No messages yet. Write the first one.";
    BackToList => "Retour aux conversations", "Back to conversations";
    #[cfg(feature = "second-build")]
    ConversationClosed => "Cette conversation est close : vous pouvez la relire mais plus y écrire.", "This conversation is closed: you can read it but no longer write in it.";
    TopicLabel => "Thème de la demande", "Topic of the request";
    TopicPrescriptionRenewal => "Renouvellement d’ordonnance", "Prescription renewal";
    TopicTestResults => "Résultats d’examens", "Test results";
    TopicAdministrative => "Rendez-vous, administratif", "Appointment, paperwork";
    TopicCertificate => "Certificat, formulaire", "Certificate, form";
    TopicMedicalQuestion => "Question médicale", "Medical question";
    TopicAll => "Tous les thèmes", "All topics";
    TopicChoose => "Choisissez le thème de votre demande :", "Choose what your request is about:";
    #[cfg(feature = "second-build")]
    StartRequest => "Commencer la demande", "Start the request";
    Cancel => "Annuler", "Cancel";
    #[cfg(feature = "second-build")]
    TriageLabel => "Étape", "Stage";
    TriageNew => "Nouveau", "New";
    TriageInProgress => "En cours", "In progress";
    TriageWaitingPatient => "En attente du patient", "Waiting for the patient";
    TriageWaitingYou => "En attente de votre réponse", "Waiting for your reply";
    TriageDone => "Clos", "Closed";
    QueueLabel => "File des demandes", "Request queue";
    QueueCount => "{} ({})", "{} ({})";
    WaitingMinutes => "attend depuis {} min", "waiting for {} min";
    WaitingHours => "attend depuis {} h", "waiting for {} h";
    WaitingDays => "attend depuis {} j", "waiting for {} d";
    #[cfg(feature = "second-build")]
    CloseConversation => "Clore l’échange", "Close the exchange";
    #[cfg(feature = "second-build")]
    CloseReasonLabel => "Motif, lu par le patient (par exemple « Ordonnance envoyée à votre pharmacie »)", "Reason, read by the patient (for example “Prescription sent to your pharmacy”)";
    #[cfg(feature = "second-build")]
    CloseConfirm => "Clore avec ce motif", "Close with this reason";
    #[cfg(feature = "second-build")]
    Reopen => "Rouvrir l’échange", "Reopen the exchange";
    ClosedLine => "Échange clos par {} : {}", "Exchange closed by {}: {}";
    ClosedLineNext => "Pour une nouvelle demande, utilisez le bouton « Nouvelle demande ».", "For a new request, use the “New request” button.";
    ReopenedLine => "Échange rouvert par {}.", "Exchange reopened by {}.";
    AutoReplyLine => "Réponse automatique : {}", "Automatic reply (in French): {}";
    ReplyDue => "Réponse attendue au plus tard le {}", "Reply expected by {}";
    Writing => "{} écrit…", "{} is writing…";
    AbsenceNotice => "{} ne consulte pas ses messages jusqu’au {} inclus : votre message sera lu au retour.", "{} is not reading messages until {} inclusive: your message will be read on their return.";
    AbsenceCovering => "{} assure le relais. Pour une demande qui ne peut pas attendre, appelez le cabinet ; en cas d’urgence, le 15 ou le 112.", "{} is covering. For a request that cannot wait, call the practice; in an emergency, 15 or 112.";
    ClosedComposer => "Cet échange est clos. Vous pouvez le relire ; pour autre chose, faites une nouvelle demande.", "This exchange is closed. You can read it again; for anything else, make a new request.";
    ClosedComposerDoctor => "Cet échange est clos. Rouvrez-le pour écrire à nouveau.", "This exchange is closed. Reopen it to write again.";
    NewRequest => "Nouvelle demande", "New request";
    BlockedComposer => "{} ne reçoit plus vos messages par la messagerie. Vous pouvez relire cet échange ; pour le joindre, appelez le cabinet. En cas d’urgence, appelez le 15 ou le 112.", "{} no longer takes your messages here. You can still read this exchange; to reach them, call the practice. In an emergency, call 15 or 112.";
    IntakeClosedNotice => "{} ne reçoit pas de nouvelle demande par messagerie pour le moment. Pour un rendez-vous, utilisez la page « Mes rendez-vous » ; sinon, appelez le cabinet.", "{} takes no new request by message at the moment. To book, use the “My appointments” page; otherwise, call the practice.";
    IntakeRecentNotice => "{} réserve la messagerie aux patients vus ou ayant un rendez-vous dans les {} derniers mois. Prenez rendez-vous, ou appelez le cabinet.", "{} keeps messaging for patients seen or booked within the last {} months. Book an appointment, or call the practice.";
    IntakeBlockedNotice => "{} ne reçoit pas vos messages par la messagerie. Pour le joindre, appelez le cabinet.", "{} does not take your messages here. To reach them, call the practice.";
    NavSettings => "Réglages", "Settings";
    SettingsTitle => "Qui peut m’écrire", "Who may write to me";
    #[cfg(feature = "second-build")]
    IntakeModeOff => "Personne : je ne reçois pas de nouvelle demande", "Nobody: I take no new requests";
    #[cfg(feature = "second-build")]
    IntakeModeCareTeam => "Les patients de mon équipe de soins", "The patients of my care team";
    #[cfg(feature = "second-build")]
    IntakeModeRecent => "Les patients vus ou ayant rendez-vous dans les derniers mois", "Patients seen or booked within the last months";
    #[cfg(feature = "second-build")]
    IntakeMonths => "Nombre de mois", "Number of months";
    #[cfg(feature = "second-build")]
    IntakeOpenKept => "Les échanges déjà ouverts restent ouverts : closez-les quand ils sont traités.", "Exchanges already open stay open: close them once they are dealt with.";
    #[cfg(feature = "second-build")]
    Save => "Enregistrer", "Save";
    #[cfg(feature = "second-build")]
    Saved => "Enregistré.", "Saved.";
    #[cfg(feature = "second-build")]
    BlockedTitle => "Patients bloqués", "Blocked patients";
    #[cfg(feature = "second-build")]
    BlockedIntro => "Un patient bloqué ne peut plus vous écrire, même dans un échange ouvert.", "A blocked patient can no longer write to you, even in an open exchange.";
    #[cfg(feature = "second-build")]
    BlockPatient => "Bloquer", "Block";
    #[cfg(feature = "second-build")]
    UnblockPatient => "Débloquer", "Unblock";
    LoadOlder => "Afficher les messages précédents", "Show earlier messages";
    JumpToLatest => "Aller aux derniers messages", "Go to the latest messages";
    MessagesLabel => "Messages de la conversation avec {}", "Messages of the conversation with {}";
    ComposerLabel => "Votre message", "Your message";
    ComposerHint => "Entrée pour envoyer, Maj + Entrée pour aller à la ligne.", "Enter to send, Shift + Enter for a new line.";
    Send => "Envoyer", "Send";
    CharCounter => "{} / {} caractères", "{} / {} characters";
    StatusSending => "Envoi…", "Sending…";
    StatusSent => "Envoyé", "Sent";
    StatusReceived => "Reçu", "Delivered";
    StatusSeen => "Lu", "Read";
    StatusSeenAt => "Lu à {}", "Read at {}";
    StatusDone => "Traité", "Dealt with";
    StatusFailed => "Non envoyé : {}", "Not sent: {}";
    RetrySend => "Renvoyer", "Send again";
    Discard => "Supprimer", "Delete";
    You => "Vous", "You";
    NewMessageFrom => "Nouveau message de {}", "New message from {}";
    NoLastMessage => "Pas encore de message", "No messages yet";
    NotFoundTitle => "Page introuvable", "Page not found";
    NotFoundText => "Cette page n’existe pas ou n’est plus disponible.", "This page does not exist or is no longer available.";
    BackHome => "Retour à l’accueil", "Back to the home page";
    IdleTitle => "Êtes-vous toujours là ?", "Are you still there?";
    IdleText => "Sans action de votre part, vous serez déconnecté dans {} s, pour protéger vos données de santé.", "Unless you do something, you will be signed out in {} s, to protect your health data.";
    StaySignedIn => "Rester connecté", "Stay signed in";
    SessionEndedLoggedOut => "Vous êtes déconnecté. Vos messages ont été effacés de ce navigateur.", "You are signed out. Your messages have been removed from this browser.";
    SessionEndedIdle => "Vous avez été déconnecté après une période d’inactivité, pour protéger vos données. Reconnectez-vous pour continuer.", "You were signed out after a period of inactivity, to protect your data. Sign in again to continue.";
    SessionEndedExpired => "Votre session a expiré. Reconnectez-vous pour continuer.", "Your session has expired. Sign in again to continue.";
    SecurityTitle => "Sécurité du compte", "Account security";
    #[cfg(feature = "second-build")]
    DevicesTitle => "Appareils connectés", "Signed-in devices";
    #[cfg(feature = "second-build")]
    DevicesIntro => "Un appareil que vous ne reconnaissez pas ? Déconnectez-le, puis changez votre mot de passe.", "A device you do not recognise? Sign it out, then change your password.";
    #[cfg(feature = "second-build")]
    ThisDevice => "Cet appareil", "This device";
    #[cfg(feature = "second-build")]
    UnknownDevice => "Appareil inconnu", "Unknown device";
    #[cfg(feature = "second-build")]
    LastActive => "Dernière activité : {}", "Last active: {}";
    #[cfg(feature = "second-build")]
    FromAddress => "Adresse : {}", "Address: {}";
    #[cfg(feature = "second-build")]
    SignOutDevice => "Déconnecter", "Sign out";
    #[cfg(feature = "second-build")]
    SignOutNamed => "Déconnecter {}", "Sign out {}";
    #[cfg(feature = "second-build")]
    PasswordTitle => "Changer de mot de passe", "Change your password";
    #[cfg(feature = "second-build")]
    CurrentPassword => "Mot de passe actuel", "Current password";
    #[cfg(feature = "second-build")]
    NewPassword => "Nouveau mot de passe (8 caractères au moins)", "New password (at least 8 characters)";
    #[cfg(feature = "second-build")]
    PasswordChanged => "Mot de passe changé. Vos autres appareils ont été déconnectés.", "Password changed. Your other devices have been signed out.";
    ErrWrongPassword => "Le mot de passe actuel n’est pas le bon.", "The current password is not right.";
    ErrWeakPassword => "Le nouveau mot de passe doit compter au moins 8 caractères.", "The new password must have at least 8 characters.";
    #[cfg(feature = "second-build")]
    MfaTitle => "Double authentification", "Two-step verification";
    #[cfg(feature = "second-build")]
    MfaIntro => "À chaque connexion, un code à 6 chiffres de votre application d’authentification vous sera demandé en plus du mot de passe.", "Each time you sign in, a 6-digit code from your authenticator app will be asked for as well as your password.";
    #[cfg(feature = "second-build")]
    MfaRequired => "Votre établissement exige la double authentification des médecins. Activez-la pour accéder à votre messagerie.", "Your organisation requires two-step verification for doctors. Turn it on to reach your messages.";
    #[cfg(feature = "second-build")]
    MfaOn => "La double authentification est activée. Codes de secours restants : {}.", "Two-step verification is on. Recovery codes left: {}.";
    #[cfg(feature = "second-build")]
    MfaOff => "La double authentification n’est pas activée.", "Two-step verification is off.";
    #[cfg(feature = "second-build")]
    MfaStart => "Activer la double authentification", "Turn on two-step verification";
    #[cfg(feature = "second-build")]
    MfaScan => "Scannez ce QR code avec votre application d’authentification (FreeOTP, Google Authenticator, Microsoft Authenticator…).", "Scan this QR code with your authenticator app (FreeOTP, Google Authenticator, Microsoft Authenticator…).";
    #[cfg(feature = "second-build")]
    MfaQrLabel => "QR code à scanner avec l’application d’authentification", "QR code to scan with the authenticator app";
    #[cfg(feature = "second-build")]
    MfaManual => "Impossible de scanner ? Saisissez cette clé dans l’application :", "Cannot scan? Type this key into the app:";
    #[cfg(feature = "second-build")]
    MfaCodeLabel => "Code à 6 chiffres affiché par l’application", "6-digit code shown by the app";
    #[cfg(feature = "second-build")]
    MfaConfirm => "Vérifier et activer", "Verify and turn on";
    #[cfg(feature = "second-build")]
    MfaCodesTitle => "Vos codes de secours", "Your recovery codes";
    #[cfg(feature = "second-build")]
    MfaCodesHint => "Chaque code sert une seule fois, si vous n’avez plus votre téléphone. Copiez-les ou imprimez-les et gardez-les en lieu sûr : ils ne seront plus affichés.", "Each code works once, if you no longer have your phone. Copy or print them and keep them somewhere safe: they will not be shown again.";
    #[cfg(feature = "second-build")]
    Print => "Imprimer", "Print";
    #[cfg(feature = "second-build")]
    MfaCodesDone => "J’ai noté mes codes", "I have kept my codes";
    #[cfg(feature = "second-build")]
    MfaDisableTitle => "Désactiver la double authentification", "Turn off two-step verification";
    #[cfg(feature = "second-build")]
    MfaDisableCode => "Code de l’application ou code de secours", "App code or recovery code";
    #[cfg(feature = "second-build")]
    MfaLoginTitle => "Vérification en deux étapes", "Two-step verification";
    #[cfg(feature = "second-build")]
    MfaLoginIntro => "Saisissez le code à 6 chiffres affiché par votre application d’authentification.", "Enter the 6-digit code shown by your authenticator app.";
    #[cfg(feature = "second-build")]
    MfaRecoveryIntro => "Saisissez l’un de vos codes de secours. Chaque code ne sert qu’une fois.", "Enter one of your recovery codes. Each code works only once.";
    #[cfg(feature = "second-build")]
    MfaRecoveryLabel => "Code de secours", "Recovery code";
    #[cfg(feature = "second-build")]
    MfaUseRecovery => "Utiliser un code de secours", "Use a recovery code";
    #[cfg(feature = "second-build")]
    MfaUseApp => "Utiliser le code de l’application", "Use the app’s code";
    #[cfg(feature = "second-build")]
    MfaVerify => "Valider", "Verify";
    #[cfg(feature = "second-build")]
    MfaRestart => "Recommencer la connexion", "Start signing in again";
    ErrInvalidMfaCode => "Code incorrect ou déjà utilisé. Vérifiez que l’heure de votre téléphone est juste, puis réessayez.", "Wrong or already used code. Check that your phone’s clock is right, then try again.";
    ErrMfaEnrolmentRequired => "Activez d’abord la double authentification.", "Turn on two-step verification first.";
    ErrMfaAlreadyEnabled => "La double authentification est déjà activée.", "Two-step verification is already on.";
    ErrInvalidRequest => "La demande n’a pas pu être comprise. Réessayez.", "The request could not be understood. Please try again.";
    ErrEmptyBody => "Le message est vide.", "The message is empty.";
    ErrBodyTooLong => "Ce message est trop long.", "This message is too long.";
    ErrTooLarge => "C’est trop volumineux pour être envoyé.", "This is too large to send.";
    ErrUnauthorized => "Votre session a expiré. Reconnectez-vous.", "Your session has expired. Please sign in again.";
    ErrInvalidCredentials => "Adresse e-mail ou mot de passe incorrect.", "Wrong email address or password.";
    ErrForbidden => "Vous n’avez pas accès à cette page.", "You do not have access to this.";
    ErrNotFound => "Introuvable : cet élément n’existe pas ou plus.", "Not found: it does not exist or no longer exists.";
    ErrConversationClosed => "Cette conversation est close.", "This conversation is closed.";
    ErrNoCareRelationship => "Vous ne pouvez écrire qu’aux membres de votre équipe de soins.", "You can only write to members of your care team.";
    ErrRateLimited => "Trop d’envois d’un coup. Patientez un instant.", "Too many messages at once. Please wait a moment.";
    ErrLoginThrottled => "Trop de tentatives de connexion. Pour protéger votre compte, réessayez dans quelques minutes.", "Too many sign-in attempts. To protect your account, please try again in a few minutes.";
    ErrIntakeClosed => "Ce médecin ne reçoit pas de nouvelle demande par messagerie pour le moment. Prenez rendez-vous ou appelez le cabinet.", "This doctor takes no new request by message at the moment. Book an appointment or call the practice.";
    ErrPatientBlocked => "Ce médecin ne reçoit pas vos messages par la messagerie. Pour le joindre, appelez le cabinet.", "This doctor does not take your messages here. To reach them, call the practice.";
    ErrOpenConversationExists => "Un autre échange avec ce patient est ouvert : poursuivez-le plutôt.", "Another exchange with this patient is open: carry on there instead.";
    ErrServerBusy => "Le service est très sollicité en ce moment. Réessayez dans quelques secondes.", "The service is very busy right now. Please try again in a few seconds.";
    ErrServer => "Le service rencontre un problème. Réessayez dans un moment.", "The service has a problem. Please try again in a moment.";
    ErrUnsupportedFileType => "Ce type de fichier n’est pas accepté. Fichiers acceptés : PDF, JPEG, PNG et HEIC, 10 Mo au plus chacun.", "This type of file is not accepted. Accepted files: PDF, JPEG, PNG and HEIC, at most 10 MB each.";
    ErrFileTooLarge => "Ce fichier dépasse 10 Mo. Fichiers acceptés : PDF, JPEG, PNG et HEIC, 10 Mo au plus chacun.", "This file is over 10 MB. Accepted files: PDF, JPEG, PNG and HEIC, at most 10 MB each.";
    ErrQuotaExceeded => "Votre espace de stockage de documents est plein (200 Mo).", "Your document storage is full (200 MB).";
    ErrTooManyAttachments => "Un message peut porter 4 fichiers au plus.", "A message can carry at most 4 files.";
    ErrAttachmentAlreadySent => "Ce fichier a déjà été envoyé. Joignez-le de nouveau.", "This file was already sent. Attach it again.";
    ErrLimitReached => "La limite est atteinte : supprimez un élément avant d’en ajouter un autre.", "The limit is reached: delete one before adding another.";
    ErrUploadTooSlow => "La connexion est trop lente pour envoyer ce fichier ; rien n’a été enregistré. Réessayez avec une meilleure connexion.", "The connection is too slow to send this file; nothing was stored. Try again on a better connection.";
    ErrNetwork => "Impossible de joindre le serveur. Vérifiez votre connexion.", "Cannot reach the server. Check your connection.";
    AttachFile => "Joindre un fichier", "Attach a file";
    TakePhoto => "Prendre une photo", "Take a photo";
    AttachHint => "PDF, JPEG, PNG ou HEIC, 10 Mo au plus, 4 fichiers par message.", "PDF, JPEG, PNG or HEIC, at most 10 MB, 4 files per message.";
    FilesLabel => "Fichiers joints", "Attached files";
    FileUploading => "Envoi… {} %", "Uploading… {}%";
    FileReady => "Prêt à partir", "Ready to go";
    CancelFile => "Annuler {}", "Cancel {}";
    RetryFile => "Réessayer {}", "Try {} again";
    AddAWord => "Ajoutez un mot pour accompagner le fichier (par exemple : « Voici la photo »).", "Add a few words to go with the file (for example: “Here is the photo”).";
    FilesWaitNote => "Vous pouvez envoyer : le message partira dès que les fichiers seront chargés.", "You can send now: the message will go as soon as the files are uploaded.";
    PdfAsIs => "Un PDF est envoyé tel quel, avec les informations qu’il contient (auteur, logiciel, dates).", "A PDF is sent as it is, with the information inside it (author, software, dates).";
    FilesLost => "Ce fichier n’a pas été joint à votre message : {}. Choisissez-le de nouveau.", "This file was not attached to your message: {}. Please pick it again.";
    FileWaiting => "En attente du fichier {}", "Waiting for the file {}";
    CancelSending => "Annuler l’envoi", "Cancel sending";
    OpenFile => "Ouvrir", "Open";
    FileKindPdf => "Document PDF", "PDF document";
    FileKindImage => "Photo", "Photo";
    CloseViewer => "Fermer", "Close";
    Documents => "Documents", "Documents";
    MyDocuments => "Mes documents", "My documents";
    DocumentsEmpty => "Aucun document pour l’instant.", "No documents yet.";
    DocumentsMore => "Documents plus anciens", "Older documents";
    ShowMessages => "Messages", "Messages";
    DocAuthor => "Envoyé par", "Sent by";
    DocSentByYou => "Envoyé par vous", "Sent by you";
    DocSentByYouTo => "Envoyé par vous à {}", "Sent by you to {}";
}

/// The plain-words message for an error code.
pub fn error_key(code: ErrorCode) -> Key {
    match code {
        ErrorCode::InvalidJson
        | ErrorCode::UnknownFrame
        | ErrorCode::InvalidInput
        | ErrorCode::InvalidCursor
        | ErrorCode::NotAuthenticated => Key::ErrInvalidRequest,
        ErrorCode::EmptyBody => Key::ErrEmptyBody,
        ErrorCode::BodyTooLong => Key::ErrBodyTooLong,
        ErrorCode::PayloadTooLarge => Key::ErrTooLarge,
        ErrorCode::Unauthorized => Key::ErrUnauthorized,
        ErrorCode::InvalidCredentials => Key::ErrInvalidCredentials,
        ErrorCode::WrongPassword => Key::ErrWrongPassword,
        ErrorCode::WeakPassword => Key::ErrWeakPassword,
        ErrorCode::Forbidden => Key::ErrForbidden,
        // An upload gone (unsent uploads are deleted after a day), a template deleted meanwhile:
        // for the person, the thing is not there.
        ErrorCode::NotFound | ErrorCode::UnknownReference => Key::ErrNotFound,
        ErrorCode::ConversationClosed => Key::ErrConversationClosed,
        ErrorCode::NoCareRelationship => Key::ErrNoCareRelationship,
        ErrorCode::IntakeClosed => Key::ErrIntakeClosed,
        ErrorCode::PatientBlocked => Key::ErrPatientBlocked,
        ErrorCode::OpenConversationExists => Key::ErrOpenConversationExists,
        ErrorCode::RateLimited => Key::ErrRateLimited,
        ErrorCode::ServerBusy => Key::ErrServerBusy,
        ErrorCode::TooManySockets => Key::ConnPaused,
        ErrorCode::InvalidMfaCode => Key::ErrInvalidMfaCode,
        ErrorCode::MfaEnrolmentRequired => Key::ErrMfaEnrolmentRequired,
        ErrorCode::MfaAlreadyEnabled => Key::ErrMfaAlreadyEnabled,
        ErrorCode::UnsupportedFileType => Key::ErrUnsupportedFileType,
        ErrorCode::FileTooLarge => Key::ErrFileTooLarge,
        ErrorCode::QuotaExceeded => Key::ErrQuotaExceeded,
        ErrorCode::TooManyAttachments => Key::ErrTooManyAttachments,
        ErrorCode::AttachmentAlreadySent => Key::ErrAttachmentAlreadySent,
        ErrorCode::LimitReached => Key::ErrLimitReached,
        ErrorCode::UploadTooSlow => Key::ErrUploadTooSlow,
        ErrorCode::Internal | ErrorCode::ResyncRequired | ErrorCode::Unknown => Key::ErrServer,
    }
}

/// Replaces each `{}` in `template` by the next argument.
pub fn fill(template: &str, args: &[&str]) -> String {
    let mut out = String::with_capacity(template.len() + 16);
    let mut args = args.iter();
    let mut parts = template.split("{}");
    if let Some(first) = parts.next() {
        out.push_str(first);
    }
    for part in parts {
        out.push_str(args.next().copied().unwrap_or_default());
        out.push_str(part);
    }
    out
}

/// "Écrire au Dr Martin" / "Écrire à Lucas Bernard": French contracts "à le" into "au".
pub fn write_to(lang: Lang, name: &str) -> String {
    let key = if lang == Lang::Fr && name.starts_with("Dr ") {
        Key::WriteToDoctor
    } else {
        Key::WriteTo
    };
    fill(key.text(lang), &[name])
}

pub mod english;
mod provider;

pub use provider::{
    EnglishWords, I18n, I18nProvider, I18nProviderProps, fetch_english, prepare, use_i18n,
};

#[cfg(test)]
mod tests;
