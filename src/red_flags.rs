//! Words that may mean an emergency, looked for in a patient's message before it is sent.
//!
//! About one patient in five has sent something urgent as a message. When the text matches,
//! the app shows the emergency numbers first (15 / 112, or 3114 for suicidal thoughts) and
//! sends only if the patient chooses to. Nothing leaves the browser for this: the check is
//! this pure function over a curated list.
//!
//! Matching, in French and English:
//! - case and accents do not matter ("Douleur THORACIQUE", "difficulte a respirer");
//! - a word may be inflected where the list says so (`douleur*` matches "douleurs", `respir*`
//!   "respire", "respiration");
//! - a few small words may come between the words of a phrase ("mal **à la** poitrine",
//!   "pain **in my** chest");
//! - a negation just before the phrase cancels it where it can be told ("pas de douleur
//!   thoracique", "no chest pain", "sans idées suicidaires"). When in doubt it matches: a
//!   false alarm costs the patient one tap, a missed one may cost more.

/// What kind of help to offer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Emergency {
    /// A medical emergency: 15 (SAMU) or 112.
    Medical,
    /// Suicidal thoughts: 3114 (the national suicide prevention line), and 15 / 112.
    Suicide,
}

/// A phrase of the list: its words, each exact or, ending with `*`, a prefix.
struct Phrase {
    kind: Emergency,
    words: &'static [&'static str],
}

const fn medical(words: &'static [&'static str]) -> Phrase {
    Phrase {
        kind: Emergency::Medical,
        words,
    }
}

const fn suicide(words: &'static [&'static str]) -> Phrase {
    Phrase {
        kind: Emergency::Suicide,
        words,
    }
}

/// The curated list, written in the normalised form (lower case, no accents, apostrophes as
/// spaces). Suicide first: a text that matches both gets the 3114 as well.
const PHRASES: &[Phrase] = &[
    suicide(&["idee*", "suicid*"]),
    suicide(&["suicid*"]),
    suicide(&["envie", "de", "mourir"]),
    suicide(&["me", "tuer"]),
    suicide(&["mettre", "fin", "a", "mes", "jours"]),
    suicide(&["plus", "envie", "de", "vivre"]),
    suicide(&["kill", "myself"]),
    suicide(&["end", "my", "life"]),
    suicide(&["want", "to", "die"]),
    suicide(&["self", "harm*"]),
    medical(&["douleur*", "thoraci*"]),
    medical(&["douleur*", "poitrine"]),
    medical(&["mal", "poitrine"]),
    medical(&["oppression*", "thoraci*"]),
    medical(&["serre*", "poitrine"]),
    medical(&["difficult*", "respir*"]),
    medical(&["mal", "respir*"]),
    medical(&["arrive", "respir*"]),
    medical(&["etouff*"]),
    medical(&["saignement*", "abondant*"]),
    medical(&["saigne*", "beaucoup"]),
    medical(&["hemorragi*"]),
    medical(&["perte*", "connaissance"]),
    medical(&["evanoui*"]),
    medical(&["inconscient*"]),
    medical(&["paralys*"]),
    medical(&["avc"]),
    medical(&["chest", "pain*"]),
    medical(&["pain*", "chest"]),
    medical(&["chest", "tight*"]),
    medical(&["difficult*", "breath*"]),
    medical(&["short*", "breath"]),
    medical(&["can", "t", "breath*"]),
    medical(&["cannot", "breath*"]),
    medical(&["unable", "breath*"]),
    medical(&["struggl*", "breath*"]),
    medical(&["heavy", "bleed*"]),
    medical(&["bleed*", "heavily"]),
    medical(&["unconscious*"]),
    medical(&["passed", "out"]),
    medical(&["stroke"]),
];

/// How many words may come between two words of a phrase.
const MAX_GAP: usize = 2;

/// How far before a phrase a negation still cancels it.
const NEGATION_REACH: usize = 3;

/// Words that negate what follows them.
const NEGATIONS: &[&str] = &[
    "pas", "aucun", "aucune", "sans", "ni", "jamais", "no", "not", "never", "without", "denies",
    "nor",
];

/// The emergency the text may describe, if any.
pub fn red_flag(text: &str) -> Option<Emergency> {
    let normalised = normalise(text);
    let tokens: Vec<&str> = normalised.split_whitespace().collect();
    PHRASES
        .iter()
        .find(|phrase| {
            (0..tokens.len())
                .any(|start| matches_at(&tokens, start, phrase.words) && !negated(&tokens, start))
        })
        .map(|phrase| phrase.kind)
}

/// Lower case, accents removed, anything but letters and digits turned into spaces.
fn normalise(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in crate::text::lower(text).chars() {
        match c {
            'à' | 'á' | 'â' | 'ä' | 'ã' | 'å' => out.push('a'),
            'ç' => out.push('c'),
            'é' | 'è' | 'ê' | 'ë' => out.push('e'),
            'î' | 'ï' | 'ì' | 'í' => out.push('i'),
            'ô' | 'ö' | 'ò' | 'ó' | 'õ' => out.push('o'),
            'ù' | 'û' | 'ü' | 'ú' => out.push('u'),
            'ÿ' => out.push('y'),
            'œ' => out.push_str("oe"),
            'æ' => out.push_str("ae"),
            c if crate::text::is_word_char(c) => out.push(c),
            _ => out.push(' '),
        }
    }
    out
}

fn word_matches(token: &str, word: &str) -> bool {
    match word.strip_suffix('*') {
        Some(prefix) => token.starts_with(prefix),
        None => token == word,
    }
}

/// Whether `words` match from `tokens[start]`, each next word at most [`MAX_GAP`] tokens
/// after the previous one.
fn matches_at(tokens: &[&str], start: usize, words: &[&str]) -> bool {
    let Some((first, rest)) = words.split_first() else {
        return false;
    };
    if !word_matches(tokens[start], first) {
        return false;
    }
    let mut at = start;
    for word in rest {
        let window = at + 1..(at + 2 + MAX_GAP).min(tokens.len());
        match window.into_iter().find(|&i| word_matches(tokens[i], word)) {
            Some(i) => at = i,
            None => return false,
        }
    }
    true
}

fn negated(tokens: &[&str], start: usize) -> bool {
    tokens[start.saturating_sub(NEGATION_REACH)..start]
        .iter()
        .any(|token| NEGATIONS.contains(token))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urgent_phrases_match_whatever_the_case_and_accents() {
        for text in [
            "J'ai une douleur thoracique depuis ce matin",
            "DOULEUR THORACIQUE",
            "douleur thoracique",
            "j'ai de fortes douleurs dans la poitrine",
            "j'ai mal à la poitrine quand je monte l'escalier",
            "Difficulté à respirer cette nuit",
            "difficultes a respirer",
            "j'ai du mal à respirer",
            "je n'arrive plus à respirer",
            "je n'arrive pas à respirer",
            "saignements abondants après l'opération",
            "je saigne beaucoup",
            "il a fait une perte de connaissance",
            "Severe chest pain since this morning",
            "pain in my chest",
            "I can't breathe",
            "shortness of breath when walking",
            "heavy bleeding",
        ] {
            assert_eq!(red_flag(text), Some(Emergency::Medical), "{text:?}");
        }
    }

    #[test]
    fn suicidal_thoughts_point_to_the_suicide_line() {
        for text in [
            "j'ai des idées suicidaires",
            "Idees suicidaires depuis une semaine",
            "je pense à me suicider",
            "je n'ai plus envie de vivre",
            "I want to kill myself",
            "I have suicidal thoughts",
        ] {
            assert_eq!(red_flag(text), Some(Emergency::Suicide), "{text:?}");
        }
    }

    #[test]
    fn a_negated_phrase_raises_no_alarm() {
        for text in [
            "pas de douleur thoracique, juste de la fatigue",
            "Aucune douleur thoracique depuis le changement de traitement",
            "sans difficulté à respirer",
            "no chest pain since yesterday",
            "never had suicidal thoughts",
        ] {
            assert_eq!(red_flag(text), None, "{text:?}");
        }
    }

    #[test]
    fn ordinary_messages_raise_no_alarm() {
        for text in [
            "Bonjour docteur, pouvez-vous renouveler mon ordonnance ?",
            "Je suis malade et je respire mal par le nez",
            "Merci pour les résultats de la prise de sang",
            "I can breathe fine now, thank you",
            "Could you send me the certificate?",
            "",
        ] {
            assert_eq!(red_flag(text), None, "{text:?}");
        }
    }

    #[test]
    fn a_negation_further_back_does_not_cancel_a_later_phrase() {
        assert_eq!(
            red_flag("je n'ai pas dormi de la nuit et maintenant j'ai une douleur thoracique"),
            Some(Emergency::Medical)
        );
    }
}
