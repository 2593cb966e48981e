# Root of speechocean762 as distributed (WAVE/, train/, test/, resource/); the environment wins.
SPEECHOCEAN762=${SPEECHOCEAN762:-}
