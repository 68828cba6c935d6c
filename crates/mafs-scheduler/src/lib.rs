//! The MA-AFS fusion scheduler (MLP and monotone), temperature schedules and baseline weightings (QMF, PDF, DynMM).
