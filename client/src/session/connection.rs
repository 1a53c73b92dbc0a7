//! The signaling socket's side of a visit: opening it (and again after a drop), the greeting,
//! joining, taking the seat back (`resume`) or joining anew after a server restart, and the
//! server's errors.

use leptos::prelude::*;
use noom_shared::{
    ClientMessage, ErrorCode, InvalidValue, Join, Joined, Nickname, Resume, ServerMessage, Welcome,
};

use super::Session;
use super::welcome::{self, OnWelcome, Phase, WhileDown};
use crate::i18n::t_now;
use crate::reconnect::{Down, ReconnectingSocket};
use crate::rtc::ice::IceSetup;

impl Session {
    /// Opens the socket, which reopens itself after a drop.
    pub(super) fn connect(self) {
        let socket = ReconnectingSocket::open(
            move |message| self.handle(message),
            move |down| self.socket_down(down),
        );
        self.inner.try_update_value(|i| i.socket = Some(socket));
    }

    /// The socket ended. In a call the peer connections carry on meanwhile, and the seat is
    /// taken back when a new socket is greeted.
    fn socket_down(self, down: Down) {
        let Some(phase) = self.phase.try_get_untracked() else {
            return;
        };
        match (down, welcome::while_down(&phase)) {
            (Down::GaveUp, _) => self.end(Phase::Lost),
            (Down::Retrying, WhileDown::Reconnecting) => {
                self.reconnecting.try_set(true);
            }
            (Down::Retrying, WhileDown::Connecting) => {
                self.phase.try_set(Phase::Connecting);
            }
            (Down::Retrying, WhileDown::GiveUp) => {
                if let Some(Some(socket)) = self.inner.try_update_value(|i| i.socket.take()) {
                    socket.close();
                }
            }
        }
    }

    /// Sends `join`, after checking the nickname (and the password typed, if asked for one)
    /// as the server would.
    pub fn join(self, nickname: &str, password: Option<&str>) -> Result<(), InvalidValue> {
        let nickname = Nickname::new(nickname)?;
        if let Some(typed) = password {
            self.use_password(typed)?;
        }
        self.notice.set(None);
        self.phase.set(Phase::Joining);
        self.inner
            .update_value(|i| i.nickname = Some(nickname.clone()));
        self.send(ClientMessage::Join(Join {
            room: self.room.get_value(),
            nickname,
            password: self.password(),
        }));
        Ok(())
    }

    fn handle(self, message: ServerMessage) {
        match message {
            ServerMessage::Welcome(welcome) => self.on_welcome(welcome),
            ServerMessage::Rooms(rooms) => {
                let room = self.room.get_value();
                let here = rooms.rooms.iter().find(|r| r.name == room);
                self.occupancy.set(here.map_or(0, |r| r.participants));
            }
            ServerMessage::RoomsChanged(changes) => {
                if let Some(count) = changes.count_of(&self.room.get_value()) {
                    self.occupancy.set(count);
                }
            }
            ServerMessage::Joined(joined) => self.on_joined(joined),
            ServerMessage::PeerJoined(peer) => {
                self.knock_withdrawn(&peer.peer_id);
                self.peer_joined(&peer);
            }
            ServerMessage::PeerLeft(left) => self.remove_peer(&left.peer_id),
            ServerMessage::Signal(signal) => self.on_signal(signal),
            ServerMessage::Chat(chat) => self.on_chat(chat),
            ServerMessage::PeerUpdated(peer) => self.renamed(&peer.peer_id, &peer.nickname),
            ServerMessage::PeerStatus(update) => self.status_changed(&update),
            ServerMessage::Session(lease) => self.inner.update_value(|i| i.lease = Some(lease)),
            ServerMessage::Resumed(resumed) => self.on_resumed(&resumed),
            ServerMessage::HostChanged(host) => self.host_is(host.peer_id),
            ServerMessage::MutedByHost(muted) => self.muted_by_host(muted.kind),
            ServerMessage::Removed(_) => self.removed(),
            ServerMessage::RoomAccess(access) => self.on_room_access(access),
            ServerMessage::Waiting(_) => self.phase.set(Phase::Waiting),
            ServerMessage::Knock(knock) => self.on_knock(knock),
            ServerMessage::KnockWithdrawn(gone) => self.knock_withdrawn(&gone.peer_id),
            ServerMessage::Left(_) => {}
            ServerMessage::MediaChanged(changed) => self.media_changed(changed.media),
            ServerMessage::SfuOffer(offer) => self.on_sfu_offer(offer),
            ServerMessage::SfuCameras(cameras) => self.on_sfu_cameras(cameras),
            ServerMessage::SfuSlots(slots) => self.on_sfu_slots(slots),
            ServerMessage::Error(error) => self.on_error(error.code),
        }
    }

    fn on_welcome(self, welcome: Welcome) {
        let reconnecting = self.reconnecting.get_untracked();
        let lease = self
            .inner
            .try_update_value(|i| {
                if let Some(socket) = &i.socket {
                    socket.answered();
                }
                i.lease.take()
            })
            .flatten();
        self.max_room_size.set(welcome.max_room_size);
        self.max_file_bytes.set(welcome.max_file_bytes);
        self.has_relay
            .set(IceSetup::from_welcome(&welcome).has_relay());
        let next = welcome::on_welcome(welcome.protocol, reconnecting, lease);
        self.inner.update_value(|i| i.welcome = Some(welcome));
        match next {
            OnWelcome::Outdated => self.end(Phase::Outdated),
            // Each token works once.
            OnWelcome::Resume(token) => self.send(ClientMessage::Resume(Resume { token })),
            OnWelcome::Rejoin => self.rejoin(),
            OnWelcome::PreJoin => {
                self.send(ClientMessage::ListRooms(Default::default()));
                self.phase.set(Phase::PreJoin);
            }
        }
    }

    /// `resumed`: the seat is ours again under the same peer id, so every peer connection still
    /// fits. Catch up with who left or came meanwhile.
    fn on_resumed(self, resumed: &Joined) {
        self.reconnecting.set(false);
        self.host_is(resumed.host.clone());
        self.catch_up(&resumed.peers);
        // A switch we missed while the socket was down; our links still fit otherwise.
        if self.media() != resumed.media {
            self.media_changed(resumed.media);
        }
        self.apply_toggles();
    }

    fn on_joined(self, joined: Joined) {
        if self.reconnecting.get_untracked() {
            // A rejoin: the room is rebuilt from this message.
            self.forget_everyone();
            self.reconnecting.set(false);
        }
        self.inner
            .update_value(|i| i.self_id = Some(joined.peer_id.clone()));
        self.host_is(joined.host.clone());
        let Some(nickname) = self.inner.with_value(|i| i.nickname.clone()) else {
            return;
        };
        self.enter_call(joined, nickname);
        self.phase.set(Phase::InCall);
        self.apply_toggles();
    }

    /// The server no longer holds our seat (it restarted, or the grace ran out): join the room
    /// again under the same name. Everyone's peer id is new then, so every link starts over when
    /// `joined` arrives.
    fn rejoin(self) {
        match self.inner.with_value(|i| i.nickname.clone()) {
            Some(nickname) => self.send(ClientMessage::Join(Join {
                room: self.room.get_value(),
                nickname,
                password: self.password(),
            })),
            None => self.end(Phase::Lost),
        }
    }

    /// A refusal, said by its code in the chosen language (the server's English words are for
    /// logs and other clients).
    fn on_error(self, code: ErrorCode) {
        let words = t_now().error(code).to_owned();
        let before_call = matches!(self.phase.get_untracked(), Phase::Joining | Phase::Waiting);
        match code {
            ErrorCode::RoomFull => self.phase.set(Phase::Full),
            ErrorCode::WrongPassword => self.password_refused(),
            // The held seat is gone (expired, or the server restarted).
            ErrorCode::InvalidToken if self.reconnecting.get_untracked() => self.rejoin(),
            ErrorCode::InvalidNickname
            | ErrorCode::InvalidRoom
            | ErrorCode::AlreadyInRoom
            | ErrorCode::TooManyRooms
            | ErrorCode::RateLimited
            | ErrorCode::Denied
                if before_call =>
            {
                self.phase.set(Phase::PreJoin);
                self.notice.set(Some(words));
            }
            _ => self.notice.set(Some(words)),
        }
    }
}
