// R's stackloss (21 days of a plant oxidising ammonia): robust regression,
// Student-t (nu = 4) errors on three uncentred predictors (Air.Flow,
// Water.Temp, Acid.Conc.): correlated, with the t likelihood's heavier tails.
data {
  int<lower=1> N;
  int<lower=1> K;
  matrix[N, K] X;
  vector[N] y;
}
parameters {
  real alpha;
  vector[K] beta;
  real<lower=0> sigma;
}
model {
  target += normal_lpdf(alpha | 0, 100);
  target += normal_lpdf(beta | 0, 10);
  target += normal_lpdf(sigma | 0, 10);
  target += student_t_lpdf(y | 4, alpha + X * beta, sigma);
}
