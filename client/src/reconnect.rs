//! A signaling socket that comes back by itself: the one reconnect loop of the app, used by the
//! lobby's room list and by the call.
//!
//! When the socket ends without our asking, it is opened again after [`Backoff`]'s wait, until
//! the server answers ([`ReconnectingSocket::answered`], on `welcome`) or Backoff gives up. A
//! server that closed it for cause ([`Ending::Refused`]: 1008, 1009) would end the next socket
//! the same way, so that is given up at once.

use std::cell::RefCell;
use std::rc::{Rc, Weak};

use leptos::prelude::set_timeout;
use noom_shared::{ClientMessage, ServerMessage};

use crate::backoff::Backoff;
use crate::signaling::{Ending, Signaling};

/// What the owner hears when the socket is down.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Down {
    /// It ended; another one opens after a wait.
    Retrying,
    /// Refused, or out of reach for too long: no more tries.
    GaveUp,
}

/// A handle to the socket; clones share it. Dropping the last one, or
/// [`ReconnectingSocket::close`], closes it for good.
#[derive(Clone)]
pub struct ReconnectingSocket(Rc<RefCell<Kept>>);

struct Kept {
    socket: Option<Signaling>,
    backoff: Backoff,
    closed: bool,
    on_message: Rc<dyn Fn(ServerMessage)>,
    on_down: Rc<dyn Fn(Down)>,
}

impl ReconnectingSocket {
    /// Opens the socket. `on_message` gets every server message of every socket in turn;
    /// `on_down` hears when one ends.
    pub fn open(
        on_message: impl Fn(ServerMessage) + 'static,
        on_down: impl Fn(Down) + 'static,
    ) -> Self {
        let kept = Rc::new(RefCell::new(Kept {
            socket: None,
            backoff: Backoff::default(),
            closed: false,
            on_message: Rc::new(on_message),
            on_down: Rc::new(on_down),
        }));
        connect(&kept);
        Self(kept)
    }

    /// Queues a message on the current socket; dropped while none is open.
    pub fn send(&self, message: ClientMessage) {
        if let Some(socket) = &self.0.borrow().socket {
            socket.send(message);
        }
    }

    /// The server answered: the next drop starts the waits over.
    pub fn answered(&self) {
        self.0.borrow_mut().backoff.reset();
    }

    /// Closes the socket; nothing reopens it and no handler runs after this.
    pub fn close(&self) {
        let socket = {
            let mut kept = self.0.borrow_mut();
            kept.closed = true;
            kept.socket.take()
        };
        if let Some(socket) = socket {
            socket.close();
        }
    }
}

fn connect(kept: &Rc<RefCell<Kept>>) {
    let on_message = Rc::clone(&kept.borrow().on_message);
    let weak = Rc::downgrade(kept);
    let opened = Signaling::connect(
        move |message| on_message(message),
        move |ending| ended(&weak, ending),
    );
    match opened {
        Ok(socket) => kept.borrow_mut().socket = Some(socket),
        Err(_) => ended(&Rc::downgrade(kept), Ending::Dropped),
    }
}

fn ended(kept: &Weak<RefCell<Kept>>, ending: Ending) {
    let Some(kept) = kept.upgrade() else { return };
    let (delay, on_down) = {
        let mut state = kept.borrow_mut();
        state.socket = None;
        if state.closed {
            return;
        }
        let delay = match ending {
            Ending::Refused => None,
            Ending::Dropped => state
                .backoff
                .next_delay(js_sys::Date::now(), js_sys::Math::random()),
        };
        (delay, Rc::clone(&state.on_down))
    };
    let Some(delay) = delay else {
        return on_down(Down::GaveUp);
    };
    on_down(Down::Retrying);
    let weak = Rc::downgrade(&kept);
    set_timeout(
        move || {
            if let Some(kept) = weak.upgrade()
                && !kept.borrow().closed
            {
                connect(&kept);
            }
        },
        delay,
    );
}
