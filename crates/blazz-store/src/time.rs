/// Now, in unix milliseconds: the one time representation in the store.
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}
