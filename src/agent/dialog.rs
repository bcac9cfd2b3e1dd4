//! Talking to an interactive agent before it works: its trust dialog,
//! answered as it really is (wait until it shows, then Down, Enter, and check
//! that it went away; the old "1. Yes, proceed" form gets Enter), and the
//! prompt as one bracketed paste, checked to have been taken.
//!
//! Only named keys are sent; text goes in as a paste from a 0600 file.

use std::time::Duration;

use super::tmux::{self, History, Key};
use super::watch::End;
use super::{L3Log, Session};
use crate::ctx::Ctx;

/// Waits for the agent's trust dialog and accepts it. `Some` ends the run.
pub fn trust(
    ctx: &mut Ctx,
    l3: &L3Log,
    server: &tmux::Server,
    s: &Session,
) -> tmux::Result<Option<End>> {
    let c = ctx.config;
    let tick = Duration::from_millis(250);
    let look_until = ctx.clock.now() + c.startup_wait + c.trust_timeout;
    while ctx.clock.now() < look_until.min(s.deadline) {
        let Some(screen) = server.capture(History::Screen)? else {
            return Ok(Some(End::Exited(None, None)));
        };
        if let Some(dialog) = Dialog::on(&screen) {
            return accept(ctx, l3, server, dialog);
        }
        if let Some((true, status)) = server.pane_state()? {
            return Ok(Some(End::Exited(
                status,
                super::watch::last_said(&screen, s.prompt),
            )));
        }
        ctx.clock.sleep(tick)?;
    }
    l3.line(ctx, "no trust dialog seen; going on");
    Ok(None)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dialog {
    /// "Accessing workspace": `No, exit` first and focused, number keys off,
    /// early keys ignored.
    Current,
    /// "Do you trust the files in this folder?": `1. Yes, proceed` focused.
    Old,
}

impl Dialog {
    fn on(screen: &str) -> Option<Dialog> {
        if screen.contains("Yes, I trust this folder") || screen.contains("Accessing workspace") {
            Some(Dialog::Current)
        } else if screen.contains("Yes, proceed")
            || screen.contains("Do you trust the files in this folder")
        {
            Some(Dialog::Old)
        } else {
            None
        }
    }
}

fn accept(
    ctx: &mut Ctx,
    l3: &L3Log,
    server: &tmux::Server,
    dialog: Dialog,
) -> tmux::Result<Option<End>> {
    for attempt in 1..=2 {
        match dialog {
            Dialog::Current => {
                // Keys pressed as the dialog opens are dropped.
                ctx.clock.sleep(Duration::from_millis(1000))?;
                press(server, Key::Down)?;
                ctx.clock.sleep(Duration::from_millis(300))?;
                press(server, Key::Enter)?;
            }
            Dialog::Old => {
                ctx.clock.sleep(Duration::from_millis(500))?;
                press(server, Key::Enter)?;
            }
        }
        let until = ctx.clock.now() + Duration::from_secs(5);
        while ctx.clock.now() < until {
            ctx.clock.sleep(Duration::from_millis(250))?;
            if let Some((true, status)) = server.pane_state()? {
                l3.line(ctx, "the agent exited at its trust dialog");
                return Ok(Some(End::Exited(status, None)));
            }
            let screen = server.capture(History::Screen)?.unwrap_or_default();
            if !screen.contains("Yes, I trust this folder") && !screen.contains("Yes, proceed") {
                l3.line(
                    ctx,
                    &format!("trust dialog accepted ({dialog:?} form, attempt {attempt})"),
                );
                return Ok(None);
            }
        }
    }
    Ok(Some(End::Tmux("the trust dialog did not go away".into())))
}

/// A key press whose refusal is not fatal: the screen check that follows
/// tells whether it worked.
fn press(server: &tmux::Server, key: Key) -> tmux::Result<()> {
    match server.key(key) {
        Err(tmux::Error::Run(e)) => Err(tmux::Error::Run(e)),
        Ok(()) | Err(tmux::Error::Refused(_)) => Ok(()),
    }
}

/// Pastes the prompt as one block, submits it, and checks that it was taken.
pub fn submit(
    ctx: &mut Ctx,
    l3: &L3Log,
    server: &tmux::Server,
    s: &Session,
) -> tmux::Result<Option<End>> {
    server.paste_file(&s.paths.prompt)?;
    ctx.clock.sleep(Duration::from_millis(500))?;
    let pasted = server.capture(History::Screen)?.unwrap_or_default();
    press(server, Key::Enter)?;
    for _ in 0..2 {
        let until = ctx.clock.now() + Duration::from_secs(3);
        while ctx.clock.now() < until {
            ctx.clock.sleep(Duration::from_millis(250))?;
            let now = server.capture(History::Screen)?.unwrap_or_default();
            if now != pasted {
                l3.line(
                    ctx,
                    &format!("prompt submitted ({} lines)", s.prompt.lines().count()),
                );
                return Ok(None);
            }
        }
        press(server, Key::Enter)?;
    }
    l3.line(
        ctx,
        "the screen did not change after the prompt was submitted; watching anyway",
    );
    Ok(None)
}
