"""Time and side effects: the scheduler, the dramatiq actors, and letter delivery."""
