//! Automatic logoff after inactivity (HIPAA's "automatic logoff"): a warning shortly before,
//! then the session ends.
//!
//! [`IdleClock`] is the whole logic, pure and unit-tested on the host. The hook feeds it the
//! user's activity (pointer presses, keyboard, touch, wheel and scroll, the tab coming back
//! into view) and runs ONE timer: activity only records a time, and the timer, when it wakes,
//! looks at where the session stands and sleeps again until the next moment that matters (the
//! warning, each second of the countdown, the deadline). No busy loop, no timer reset per
//! event.

use gloo_events::{EventListener, EventListenerOptions, EventListenerPhase};
use gloo_timers::callback::Timeout;
use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};
use wasm_bindgen::JsCast;
use yew::prelude::*;

/// How long a session may stay idle, and how long before the end the user is warned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IdlePolicy {
    /// Logoff after this many milliseconds without activity.
    pub timeout_ms: u32,
    /// The warning shows this many milliseconds before the logoff.
    pub warning_ms: u32,
}

/// Where an idle session stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdlePhase {
    /// Nothing to show.
    Active,
    /// The warning is up, with whole seconds left (rounded up).
    Warning {
        /// Seconds before the logoff.
        seconds_left: u32,
    },
    /// Time is up: log off.
    Expired,
}

/// The inactivity logic. Times are milliseconds on any monotonic-enough clock
/// (`Date.now()` in the browser).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct IdleClock {
    policy: IdlePolicy,
    last_activity: f64,
}

impl IdleClock {
    /// Starts counting at `now`.
    pub fn new(policy: IdlePolicy, now: f64) -> Self {
        Self {
            policy,
            last_activity: now,
        }
    }

    fn warn_after(&self) -> f64 {
        f64::from(self.policy.timeout_ms - self.policy.warning_ms.min(self.policy.timeout_ms))
    }

    /// Where the session stands at `now`.
    pub fn phase(&self, now: f64) -> IdlePhase {
        let idle = (now - self.last_activity).max(0.0);
        let timeout = f64::from(self.policy.timeout_ms);
        if idle >= timeout {
            IdlePhase::Expired
        } else if idle >= self.warn_after() {
            IdlePhase::Warning {
                seconds_left: ((timeout - idle) / 1000.0).ceil() as u32,
            }
        } else {
            IdlePhase::Active
        }
    }

    /// The user did something. Counts only while no warning shows: the warning is answered by
    /// its button, not by a stray mouse move. Activity after the deadline (a background tab
    /// whose timer was throttled) does not revive the session.
    pub fn activity(&mut self, now: f64) -> IdlePhase {
        let phase = self.phase(now);
        if phase == IdlePhase::Active {
            self.last_activity = now;
        }
        phase
    }

    /// "Rester connecté": starts over, unless it is already too late.
    pub fn stay(&mut self, now: f64) -> IdlePhase {
        let phase = self.phase(now);
        if phase == IdlePhase::Expired {
            return phase;
        }
        self.last_activity = now;
        IdlePhase::Active
    }

    /// Milliseconds until the phase (or the countdown's second) can next change.
    pub fn next_check_ms(&self, now: f64) -> u32 {
        let idle = (now - self.last_activity).max(0.0);
        let timeout = f64::from(self.policy.timeout_ms);
        let wait = if idle < self.warn_after() {
            self.warn_after() - idle
        } else if idle < timeout {
            let left = timeout - idle;
            // Until the displayed number of seconds changes (or the deadline).
            let shown = (left / 1000.0).ceil();
            (left - (shown - 1.0) * 1000.0).min(left)
        } else {
            0.0
        };
        // Timers may wake a hair early: never spin on a zero delay.
        wait.ceil().max(1.0) as u32
    }
}

/// What [`use_inactivity`] gives back.
#[derive(Clone, PartialEq)]
pub struct Inactivity {
    /// Where the session stands.
    pub phase: IdlePhase,
    /// "Rester connecté".
    pub stay: Callback<()>,
}

struct Watch {
    me: Weak<Watch>,
    clock: Cell<IdleClock>,
    timer: RefCell<Option<Timeout>>,
    set_phase: RefCell<Callback<IdlePhase>>,
    on_activity: RefCell<Callback<()>>,
    on_expired: RefCell<Callback<()>>,
}

fn now() -> f64 {
    js_sys::Date::now()
}

impl Watch {
    /// The timer woke: publish the phase and sleep until the next change, or end it.
    fn check(&self) {
        let now = now();
        let phase = self.clock.get().phase(now);
        // Callbacks are cloned out of their cells before being called: a render rewrites them.
        let set_phase = self.set_phase.borrow().clone();
        set_phase.emit(phase);
        if phase == IdlePhase::Expired {
            self.timer.borrow_mut().take();
            let on_expired = self.on_expired.borrow().clone();
            on_expired.emit(());
        } else {
            self.arm(now);
        }
    }

    fn arm(&self, now: f64) {
        let delay = self.clock.get().next_check_ms(now);
        let me = self.me.clone();
        *self.timer.borrow_mut() = Some(Timeout::new(delay, move || {
            if let Some(watch) = me.upgrade() {
                watch.check();
            }
        }));
    }

    fn activity(&self) {
        let mut clock = self.clock.get();
        match clock.activity(now()) {
            IdlePhase::Active => {
                self.clock.set(clock);
                let on_activity = self.on_activity.borrow().clone();
                on_activity.emit(());
            }
            // Too late: the (throttled) timer has not caught up yet.
            IdlePhase::Expired => self.check(),
            IdlePhase::Warning { .. } => {}
        }
    }

    fn stay(&self) {
        let now = now();
        let mut clock = self.clock.get();
        if clock.stay(now) == IdlePhase::Expired {
            self.check();
            return;
        }
        self.clock.set(clock);
        let set_phase = self.set_phase.borrow().clone();
        set_phase.emit(IdlePhase::Active);
        self.arm(now);
        let on_activity = self.on_activity.borrow().clone();
        on_activity.emit(());
    }
}

/// Watches the user's activity while mounted. `on_activity` hears about activity (to renew
/// the token), `on_expired` is called once the time is up.
#[hook]
pub fn use_inactivity(
    policy: IdlePolicy,
    on_activity: Callback<()>,
    on_expired: Callback<()>,
) -> Inactivity {
    let phase = use_state_eq(|| IdlePhase::Active);
    let watch = use_memo(policy, |policy| {
        Rc::new_cyclic(|me| Watch {
            me: me.clone(),
            clock: Cell::new(IdleClock::new(*policy, now())),
            timer: RefCell::new(None),
            set_phase: RefCell::new(Callback::noop()),
            on_activity: RefCell::new(Callback::noop()),
            on_expired: RefCell::new(Callback::noop()),
        })
    });
    {
        let phase = phase.clone();
        *watch.set_phase.borrow_mut() = Callback::from(move |p| phase.set(p));
    }
    *watch.on_activity.borrow_mut() = on_activity;
    *watch.on_expired.borrow_mut() = on_expired;

    // The watch is remade when the policy changes: so are the timer and the listeners.
    let current = Rc::clone(&*watch);
    use_effect_with(policy, move |_| {
        let watch = current;
        watch.arm(now());
        let listeners = listen(&watch);
        move || {
            drop(listeners);
            watch.timer.borrow_mut().take();
        }
    });

    let stay = {
        let watch = Rc::clone(&*watch);
        Callback::from(move |()| watch.stay())
    };
    Inactivity {
        phase: *phase,
        stay,
    }
}

/// Activity listeners: passive and capturing, so they never slow scrolling nor miss an event
/// a component stops.
fn listen(watch: &Rc<Watch>) -> Vec<EventListener> {
    let Some(window) = web_sys::window() else {
        return Vec::new();
    };
    let Some(document) = window.document() else {
        return Vec::new();
    };
    let options = EventListenerOptions {
        phase: EventListenerPhase::Capture,
        passive: true,
    };
    let on = |target: &web_sys::EventTarget, event: &'static str| {
        let watch = Rc::downgrade(watch);
        EventListener::new_with_options(target, event, options, move |_| {
            if let Some(watch) = watch.upgrade() {
                watch.activity();
            }
        })
    };
    // No `pointermove`: a browser may synthesise one when the page changes under a resting
    // cursor (a new message arriving), which would keep an abandoned session alive forever.
    let mut listeners: Vec<EventListener> =
        ["pointerdown", "keydown", "touchstart", "wheel", "scroll"]
            .into_iter()
            .map(|event| on(document.unchecked_ref(), event))
            .collect();
    let weak = Rc::downgrade(watch);
    let doc = document.clone();
    listeners.push(EventListener::new(
        &document,
        "visibilitychange",
        move |_| {
            if doc.visibility_state() == web_sys::VisibilityState::Visible
                && let Some(watch) = weak.upgrade()
            {
                watch.activity();
            }
        },
    ));
    listeners
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: IdlePolicy = IdlePolicy {
        timeout_ms: 15 * 60_000,
        warning_ms: 60_000,
    };

    #[test]
    fn the_warning_comes_a_minute_before_the_logoff() {
        let clock = IdleClock::new(POLICY, 0.0);
        assert_eq!(clock.phase(13.0 * 60_000.0), IdlePhase::Active);
        assert_eq!(
            clock.phase(14.0 * 60_000.0),
            IdlePhase::Warning { seconds_left: 60 }
        );
        assert_eq!(
            clock.phase(14.0 * 60_000.0 + 59_500.0),
            IdlePhase::Warning { seconds_left: 1 }
        );
        assert_eq!(clock.phase(15.0 * 60_000.0), IdlePhase::Expired);
    }

    #[test]
    fn activity_pushes_the_deadline_back() {
        let mut clock = IdleClock::new(POLICY, 0.0);
        assert_eq!(clock.activity(10.0 * 60_000.0), IdlePhase::Active);
        assert_eq!(clock.phase(20.0 * 60_000.0), IdlePhase::Active);
        assert_eq!(clock.phase(25.0 * 60_000.0), IdlePhase::Expired);
    }

    #[test]
    fn a_stray_move_does_not_dismiss_the_warning_but_stay_does() {
        let mut clock = IdleClock::new(POLICY, 0.0);
        let warned = 14.5 * 60_000.0;
        assert!(matches!(clock.activity(warned), IdlePhase::Warning { .. }));
        assert!(matches!(clock.phase(warned), IdlePhase::Warning { .. }));
        assert_eq!(clock.stay(warned), IdlePhase::Active);
        assert_eq!(clock.phase(warned + 60_000.0), IdlePhase::Active);
    }

    #[test]
    fn coming_back_after_the_deadline_does_not_revive_the_session() {
        let mut clock = IdleClock::new(POLICY, 0.0);
        let late = 40.0 * 60_000.0;
        assert_eq!(clock.activity(late), IdlePhase::Expired);
        assert_eq!(clock.stay(late), IdlePhase::Expired);
    }

    #[test]
    fn the_timer_sleeps_until_the_warning_then_wakes_each_second() {
        let clock = IdleClock::new(POLICY, 0.0);
        assert_eq!(clock.next_check_ms(0.0), 14 * 60_000);
        assert_eq!(clock.next_check_ms(14.0 * 60_000.0), 1_000);
        assert_eq!(clock.next_check_ms(14.0 * 60_000.0 + 250.0), 750);
        assert_eq!(clock.next_check_ms(15.0 * 60_000.0 - 300.0), 300);
        assert_eq!(
            clock.next_check_ms(99.0 * 60_000.0),
            1,
            "never a zero-delay spin"
        );
    }
}
