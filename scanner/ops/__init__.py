"""Operations: the scheduler daemon, its lock, re-verification, Redis scale-out and metrics."""
