// R's ChickWeight (578 weighings of 50 chicks over 21 days): log weight
// linear in time with a random intercept and a random slope per chick,
// non-centred; 105 parameters. Time is not centred (0..21 days), so each
// chick's intercept and slope are correlated.
data {
  int<lower=1> N;
  int<lower=1> J;
  int<lower=1, upper=J> chick[N];
  vector[N] time;
  vector[N] y;
}
parameters {
  real mu_a;
  real mu_b;
  real<lower=0> tau_a;
  real<lower=0> tau_b;
  real<lower=0> sigma;
  vector[J] z_a;
  vector[J] z_b;
}
model {
  vector[N] eta;
  for (n in 1:N)
    eta[n] = mu_a + tau_a * z_a[chick[n]] + (mu_b + tau_b * z_b[chick[n]]) * time[n];
  target += normal_lpdf(mu_a | 0, 10);
  target += normal_lpdf(mu_b | 0, 1);
  target += normal_lpdf(tau_a | 0, 1);
  target += normal_lpdf(tau_b | 0, 0.5);
  target += normal_lpdf(sigma | 0, 1);
  target += normal_lpdf(z_a | 0, 1);
  target += normal_lpdf(z_b | 0, 1);
  target += normal_lpdf(y | eta, sigma);
}
