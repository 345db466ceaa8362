//! Tests (filled in next).
