// mpg of the 32 cars of R's mtcars on five UNCENTRED predictors (disp, hp,
// drat, wt, qsec): the intercept and the slopes are strongly correlated.
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
  target += normal_lpdf(y | alpha + X * beta, sigma);
}
