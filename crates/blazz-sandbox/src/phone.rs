//! What the network knows about one account's phone: its link, its faults,
//! its pacing record and what it sent.

use std::collections::HashSet;

use tokio::sync::mpsc;

use crate::network::Control;
use crate::pacing::{ColdSends, Pacing};
use crate::sends::Sends;

#[derive(Default)]
pub(crate) struct Phone {
    /// The codes that approve a link right now.
    pub qr: Option<String>,
    pub pair: Option<String>,
    /// Tells the linking connection the phone approved (with its number).
    pub approve: Option<mpsc::Sender<String>>,
    /// The credentials the network accepts for this account.
    pub device: Option<String>,
    pub number: Option<String>,
    pub banned: bool,
    /// Banned for crossing the pacing limits, until then (ms on the
    /// network's clock).
    pub banned_until: Option<i64>,
    /// The network is unreachable for this number (an outage).
    pub down: bool,
    /// Contacts who wrote to this number: messages to them are never
    /// counted against the pacing limits.
    pub wrote: HashSet<String>,
    /// Messages to everyone else, over the last day.
    pub cold: ColdSends,
    /// Pacing enforcement switched on or off for this number alone.
    pub enforce: Option<bool>,
    /// The phone unlinked its device: old credentials stop working.
    pub unlinked: bool,
    /// A connection that answers nothing (silent disconnect).
    pub silent: bool,
    /// The live connection, if any.
    pub live: Option<mpsc::UnboundedSender<Control>>,
    /// What the number sent through the network.
    pub sends: Sends,
}

impl Phone {
    /// Why the network refuses this number now, if it does; an expired
    /// temporary ban is lifted on the way.
    pub fn banned_now(&mut self, now: i64) -> Option<&'static str> {
        if self.banned {
            return Some("the number is banned");
        }
        match self.banned_until {
            Some(until) if now < until => Some("the number is temporarily banned"),
            Some(_) => {
                self.banned_until = None;
                None
            }
            None => None,
        }
    }

    /// `live` becomes the number's connection; the receipts that found no
    /// connection while it was away go to it first (WhatsApp delivers
    /// pending receipts to a reconnecting client).
    pub fn go_live(&mut self, live: mpsc::UnboundedSender<Control>) {
        for event in self.sends.take_pending() {
            let _ = live.send(Control::event(event));
        }
        self.live = Some(live);
        self.silent = false;
    }

    /// Counts a message to `to` against the pacing limits. Past one, the
    /// number is banned for a while (with a clean slate afterwards): the
    /// ban's reason.
    pub fn pace(&mut self, to: &str, now: i64, pacing: &Pacing) -> Option<String> {
        if !self.enforce.unwrap_or(pacing.enforce) || self.wrote.contains(to) {
            return None;
        }
        let breach = self.cold.record(now, pacing)?;
        self.banned_until = Some(now + pacing.ban.as_millis() as i64);
        self.cold.clear();
        Some(breach.reason())
    }
}
