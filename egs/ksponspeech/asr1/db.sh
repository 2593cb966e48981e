# Root of KsponSpeech (KsponSpeech_01..05/, KsponSpeech_eval/, scripts/*.trn); the environment wins.
KSPONSPEECH=${KSPONSPEECH:-}
