// Kept for existing imports; the fixtures live in @lepton/test-fixtures (depends on no other Lepton package).
export * from '@lepton/test-fixtures';
