//! The app's components, one per file.

pub mod announcer;
pub mod call_view;
pub mod chat_panel;
pub mod controls;
pub mod device_picker;
pub mod file_share;
pub mod help_dialog;
pub mod knock_toasts;
pub mod lobby;
pub mod media_toggles;
pub mod mic_level;
pub mod not_found;
pub mod outdated;
pub mod people_panel;
pub mod pre_join;
pub mod quality_indicator;
pub mod room_list;
pub mod room_page;
pub mod room_settings;
pub mod screen_tile;
pub mod side_panel;
pub mod stats_panel;
pub mod stream_video;
pub mod tile;
pub mod toggle_button;
pub mod transfer_row;
