# Root of the unzipped AI Hub tree (1.Training/, 2.Validation/ with 라벨링데이터/ and 원천데이터/); the environment wins.
AIHUB_L2KO=${AIHUB_L2KO:-}
