/**
 * Standard normal CDF Φ(z) = erfc(−z/√2)/2, with erfc by the Chebyshev fit of Numerical Recipes
 * (Press et al., 2nd ed., §6.2 `erfcc`: fractional error < 1.2·10⁻⁷ everywhere). Used by VPIN's bulk-volume
 * classification, whose output is a probability: 10⁻⁷ is far below its resolution. Tested against jStat.
 */
export function normalCdf(z: number): number {
  const x = -z / Math.SQRT2;
  const t = 1 / (1 + 0.5 * Math.abs(x));
  const y =
    t *
    Math.exp(
      -x * x -
        1.26551223 +
        t *
          (1.00002368 +
            t *
              (0.37409196 +
                t *
                  (0.09678418 +
                    t *
                      (-0.18628806 +
                        t *
                          (0.27886807 +
                            t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  const erfc = x >= 0 ? y : 2 - y;
  return erfc / 2;
}
