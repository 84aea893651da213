// R's warpbreaks (54 looms: breaks by wool A/B and tension L/M/H): Poisson
// log-normal regression, the treatment-coded design ~ wool * tension (6
// columns) plus an observation-level random effect for the overdispersion,
// non-centred; 61 parameters.
data {
  int<lower=1> N;
  int<lower=1> K;
  matrix[N, K] X;
  int<lower=0> y[N];
}
parameters {
  vector[K] beta;
  real<lower=0> tau;
  vector[N] z;
}
model {
  target += normal_lpdf(beta | 0, 5);
  target += normal_lpdf(tau | 0, 1);
  target += normal_lpdf(z | 0, 1);
  target += poisson_log_lpmf(y | X * beta + tau * z);
}
