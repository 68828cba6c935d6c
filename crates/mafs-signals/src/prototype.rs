//! Prototype entropy, the default label-free uncertainty signal ("visual entropy" on the image
//! embedding, "textual entropy" on the text embedding), and the prototype loss `L_proto` that
//! trains its prototypes.

use burn::config::Config;
use burn::module::{Module, Param};
use burn::nn::Initializer;
use burn::tensor::activation::{log_softmax, softmax};
use burn::tensor::{Bool, Device, Tensor};
use mafs_core::{Encoded, SignalContext, UncertaintySignal};

use crate::util::{
    entropy_from_logits, entropy_from_probs, l2_normalize, mean_over_other_present,
    stack_modalities,
};

/// Name of the signal in a [`mafs_core::SignalSet`].
pub const PROTOTYPE_ENTROPY: &str = "prototype_entropy";

/// Configuration of [`PrototypeEntropy`].
#[derive(Config, Debug)]
pub struct PrototypeEntropyConfig {
    /// Width `d` of the pooled embeddings (shared by every modality).
    pub d: usize,
    /// Number of prototypes `K` (at least 2).
    #[config(default = 32)]
    pub k: usize,
    /// Temperature `tau_c` of the prototype softmax (cosine scores are in [-1, 1]).
    #[config(default = 0.1)]
    pub tau_c: f64,
    /// Sharpening of the targets in `L_proto`: targets are `softmax(scores / (tau_c * sharpen))`
    /// (DINO's teacher temperature below the student's); in (0, 1].
    #[config(default = 0.5)]
    pub sharpen: f64,
}

impl PrototypeEntropyConfig {
    /// Builds the signal with prototypes drawn from a standard normal (then normalised at use,
    /// so their scale is irrelevant).
    ///
    /// # Panics
    ///
    /// Panics if `d == 0`, `k < 2`, `tau_c` is not positive and finite, or `sharpen` is not in
    /// (0, 1].
    pub fn init(&self, device: &Device) -> PrototypeEntropy {
        assert!(self.d > 0, "PrototypeEntropyConfig: d must be positive");
        assert!(
            self.k >= 2,
            "PrototypeEntropyConfig: k must be at least 2 (entropy / ln K), got {}",
            self.k
        );
        assert!(
            self.tau_c.is_finite() && self.tau_c > 0.0,
            "PrototypeEntropyConfig: tau_c must be positive and finite, got {}",
            self.tau_c
        );
        assert!(
            self.sharpen > 0.0 && self.sharpen <= 1.0,
            "PrototypeEntropyConfig: sharpen must be in (0, 1], got {}",
            self.sharpen
        );
        let prototypes = Initializer::Normal {
            mean: 0.0,
            std: 1.0,
        }
        .init([self.k, self.d], device);
        PrototypeEntropy {
            prototypes,
            tau_c: self.tau_c,
            sharpen: self.sharpen,
        }
    }
}

/// `K` learned prototypes `C [K, d]` shared by all modalities.
///
/// For a pooled embedding `z_m`, `q_m = softmax(norm(z_m) · norm(C)^T / tau_c)` and the signal
/// is `u_m = H(q_m) / ln K` in `[0, 1]`: 0 when the embedding sits on one prototype, 1 when it
/// is equally close to all of them.
#[derive(Module, Debug)]
pub struct PrototypeEntropy {
    /// Prototypes `[K, d]`.
    pub prototypes: Param<Tensor<2>>,
    /// Softmax temperature.
    pub tau_c: f64,
    /// Target sharpening factor of `L_proto`.
    pub sharpen: f64,
}

impl PrototypeEntropy {
    /// Number of prototypes `K`.
    pub fn k(&self) -> usize {
        self.prototypes.dims()[0]
    }

    /// Embedding width `d`.
    pub fn d(&self) -> usize {
        self.prototypes.dims()[1]
    }

    /// Cosine scores to the prototypes, divided by `tau_c`.
    ///
    /// # Shapes
    ///
    /// - `z`: `[batch, d]`, output `[batch, K]`
    ///
    /// # Panics
    ///
    /// Panics if `z` is not `[batch, d]`.
    pub fn scores(&self, z: Tensor<2>) -> Tensor<2> {
        let [_, d] = z.dims();
        assert_eq!(
            d,
            self.d(),
            "PrototypeEntropy: embedding width {d} differs from the prototypes' {}",
            self.d()
        );
        let c = l2_normalize(self.prototypes.val());
        l2_normalize(z).matmul(c.transpose()).div_scalar(self.tau_c)
    }

    /// The prototype assignment `q = softmax(scores)`.
    ///
    /// # Shapes
    ///
    /// - `z`: `[batch, d]`, output `[batch, K]` (rows on the simplex)
    pub fn distribution(&self, z: Tensor<2>) -> Tensor<2> {
        softmax(self.scores(z), 1)
    }

    /// Normalised entropy `H(q) / ln K` in `[0, 1]`.
    ///
    /// # Shapes
    ///
    /// - `z`: `[batch, d]`, output `[batch]`
    pub fn entropy(&self, z: Tensor<2>) -> Tensor<1> {
        entropy_from_logits(self.scores(z)).div_scalar((self.k() as f64).ln())
    }

    fn check_widths(&self, encoded: &[Encoded]) {
        assert!(!encoded.is_empty(), "PrototypeEntropy: no modalities");
        for e in encoded {
            assert_eq!(
                e.d_model(),
                self.d(),
                "PrototypeEntropy: modality `{}` has width {}, but the shared prototypes have \
                 width {}; every modality must share d",
                e.name,
                e.d_model(),
                self.d()
            );
        }
    }

    /// The prototype loss `L_proto = L_swap + L_marg` (see `docs/theory.md`, "The prototype
    /// loss"), a scalar `[1]`:
    ///
    /// - `L_swap`, cross-modal swapped prediction (SwAV) with sharpened, detached targets
    ///   (DINO): each present modality predicts the sharpened assignment of every other
    ///   present modality of the same instance, `CE(sg(t_n), q_m) / ln K`; a modality alone
    ///   in its instance predicts its own sharpened assignment (self-distillation, i.e.
    ///   entropy minimisation). It makes clean embeddings commit to a prototype, and makes
    ///   the image and text of one instance commit to the same one.
    /// - `L_marg = 1 - H(mean q) / ln K`, the uniform-marginal regulariser: the batch's mean
    ///   assignment must stay spread over all prototypes, so that `L_swap` cannot be met by
    ///   collapsing everything onto one prototype (SwAV's equipartition, DINO's centering).
    ///
    /// Only entries with `present = true` count; pass `present AND clean` to keep corrupted
    /// inputs out of the prototype objective. With nothing present the loss is 0.
    ///
    /// # Shapes
    ///
    /// - `embeddings`: `M` tensors `[batch, d]`, `present`: `[batch, M]`, output `[1]`
    ///
    /// # Panics
    ///
    /// Panics if `embeddings` is empty or the shapes disagree.
    pub fn proto_loss(&self, embeddings: &[Tensor<2>], present: Tensor<2, Bool>) -> Tensor<1> {
        assert!(!embeddings.is_empty(), "proto_loss: no modalities");
        let [b, _] = embeddings[0].dims();
        let m = embeddings.len();
        assert_eq!(
            present.dims(),
            [b, m],
            "proto_loss: present must be [batch, M] = [{b}, {m}]"
        );
        let k = self.k();
        let ln_k = (k as f64).ln();
        let scores: Vec<Tensor<2>> = embeddings.iter().map(|z| self.scores(z.clone())).collect();
        let log_q: Tensor<3> = Tensor::stack(
            scores.iter().map(|s| log_softmax(s.clone(), 1)).collect(),
            1,
        );
        let targets: Tensor<3> = Tensor::stack(
            scores
                .iter()
                .map(|s| softmax(s.clone().div_scalar(self.sharpen), 1).detach())
                .collect(),
            1,
        );
        // ce[b, m, n] = -sum_k t_n[b, k] log q_m[b, k]
        let ce = log_q.clone().matmul(targets.swap_dims(1, 2)).neg();
        let others = mean_over_other_present(ce.clone(), present.clone());
        let p = present.float();
        let device = p.device();
        let eye: Tensor<3> = Tensor::<2>::eye(m, &device).reshape([1, m, m]);
        let own = (ce * eye).sum_dim(2).reshape([b, m]);
        let n_present = p.clone().sum_dim(1); // [b, 1]
        let has_other = (n_present - p.clone()).greater_elem(0.5); // [b, m]
        let per_entry = own.mask_where(has_other, others);
        let p_sum = p.clone().sum();
        // With nothing present the loss is defined as 0 (L_marg alone would be 1).
        let any = p_sum.clone().greater_elem(0.5).float();
        let total = p_sum.clamp_min(1.0);
        let swap = (per_entry * p.clone())
            .sum()
            .div(total.clone())
            .div_scalar(ln_k);

        let q = log_q.exp(); // [b, m, k]
        let q_bar =
            (q * p.reshape([b, m, 1])).sum_dims(&[0, 1]).reshape([1, k]) / total.reshape([1, 1]);
        let marg = entropy_from_probs(q_bar)
            .div_scalar(ln_k)
            .neg()
            .add_scalar(1.0);
        (swap + marg) * any
    }
}

impl UncertaintySignal for PrototypeEntropy {
    fn name(&self) -> &str {
        PROTOTYPE_ENTROPY
    }

    /// `[batch, M]`, `H(q_m) / ln K` per modality. A missing modality's placeholder embedding
    /// gives a finite value.
    ///
    /// # Panics
    ///
    /// Panics if the modalities do not all have the prototypes' width `d`.
    fn compute(&self, ctx: &SignalContext<'_>) -> Tensor<2> {
        self.check_widths(ctx.encoded);
        stack_modalities(
            ctx.encoded
                .iter()
                .map(|e| self.entropy(e.pooled.clone()))
                .collect(),
        )
    }
}

/// Prototype assignments of every modality of a batch, `M` tensors `[batch, K]`.
pub fn distributions(proto: &PrototypeEntropy, encoded: &[Encoded]) -> Vec<Tensor<2>> {
    proto.check_widths(encoded);
    encoded
        .iter()
        .map(|e| proto.distribution(e.pooled.clone()))
        .collect()
}

/// `L_proto` on the pooled embeddings of a batch of encodings, counting present entries.
pub fn proto_loss_encoded(proto: &PrototypeEntropy, encoded: &[Encoded]) -> Tensor<1> {
    let present = mafs_core::mask::presence_of(encoded);
    proto_loss_counted(proto, encoded, present)
}

/// `L_proto` on the pooled embeddings of a batch of encodings, counting only the entries of
/// `counted` `[batch, M]` (DESIGN §1: present and clean, so that a corrupted input never
/// teaches the prototypes to treat it as its clean counterpart).
pub fn proto_loss_counted(
    proto: &PrototypeEntropy,
    encoded: &[Encoded],
    counted: Tensor<2, Bool>,
) -> Tensor<1> {
    proto.check_widths(encoded);
    let z: Vec<Tensor<2>> = encoded.iter().map(|e| e.pooled.clone()).collect();
    proto.proto_loss(&z, counted)
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::{Distribution, TensorData};

    fn encoded(name: &str, pooled: Tensor<2>, present: Vec<bool>) -> Encoded {
        let [b, d] = pooled.dims();
        let device = pooled.device();
        Encoded::new(
            name,
            pooled.clone().reshape([b, 1, d]),
            Tensor::<2, Bool>::from_data(TensorData::new(vec![false; b], [b, 1]), &device),
            pooled,
            Tensor::<1, Bool>::from_data(TensorData::new(present, [b]), &device),
        )
    }

    fn with_prototypes(c: Tensor<2>, tau_c: f64) -> PrototypeEntropy {
        PrototypeEntropy {
            prototypes: Param::from_tensor(c),
            tau_c,
            sharpen: 0.5,
        }
    }

    #[test]
    fn values_in_unit_interval_for_any_m() {
        let device = Device::flex();
        device.seed(0);
        let proto = PrototypeEntropyConfig::new(8).init(&device);
        let enc: Vec<Encoded> = (0..3)
            .map(|i| {
                encoded(
                    &format!("m{i}"),
                    Tensor::random([5, 8], Distribution::Normal(0.0, 1.0), &device),
                    vec![true, i != 1, true, false, true],
                )
            })
            .collect();
        let u = proto.compute(&SignalContext::new(&enc));
        assert_eq!(u.dims(), [5, 3]);
        for v in u.try_into_vec_as::<f32>().unwrap() {
            assert!(v.is_finite() && (-1e-6..=1.0 + 1e-6).contains(&v), "{v}");
        }
        let q = proto.distribution(enc[0].pooled.clone());
        for s in q.sum_dim(1).try_into_vec_as::<f32>().unwrap() {
            assert!((s - 1.0).abs() < 1e-5);
        }
    }

    #[test]
    fn known_values_uniform_and_one_hot() {
        let device = Device::flex();
        let c = Tensor::<2>::eye(4, &device);
        // On a prototype with a tiny temperature: one-hot assignment, entropy 0.
        let sharp = with_prototypes(c.clone(), 1.0e-3);
        let z = Tensor::<2>::from_floats([[2.0, 0.0, 0.0, 0.0]], &device);
        let u: Vec<f32> = sharp.entropy(z).try_into_vec_as::<f32>().unwrap();
        assert!(u[0].abs() < 1e-5, "{u:?}");
        // Equidistant from every prototype: uniform assignment, entropy 1.
        let z = Tensor::<2>::from_floats([[1.0, 1.0, 1.0, 1.0]], &device);
        let u: Vec<f32> = sharp.entropy(z).try_into_vec_as::<f32>().unwrap();
        assert!((u[0] - 1.0).abs() < 1e-5, "{u:?}");
        // A huge temperature flattens everything to uniform.
        let flat = with_prototypes(c, 1.0e6);
        let z = Tensor::<2>::from_floats([[2.0, 0.0, 0.0, 0.0]], &device);
        let u: Vec<f32> = flat.entropy(z).try_into_vec_as::<f32>().unwrap();
        assert!((u[0] - 1.0).abs() < 1e-5, "{u:?}");
    }

    #[test]
    fn missing_modality_value_is_finite() {
        let device = Device::flex();
        device.seed(1);
        let proto = PrototypeEntropyConfig::new(4).init(&device);
        let enc = vec![
            encoded("a", Tensor::zeros([2, 4], &device), vec![false, false]),
            encoded("b", Tensor::ones([2, 4], &device), vec![true, true]),
        ];
        let u = proto.compute(&SignalContext::new(&enc));
        assert!(
            u.try_into_vec_as::<f32>()
                .unwrap()
                .iter()
                .all(|v| v.is_finite())
        );
    }

    #[test]
    #[should_panic(expected = "every modality must share d")]
    fn width_mismatch_names_the_modality() {
        let device = Device::flex();
        let proto = PrototypeEntropyConfig::new(4).init(&device);
        let enc = vec![encoded(
            "image",
            Tensor::zeros([2, 3], &device),
            vec![true, true],
        )];
        let _ = proto.compute(&SignalContext::new(&enc));
    }

    #[test]
    fn proto_loss_prefers_spread_committed_assignments() {
        let device = Device::flex();
        let proto = with_prototypes(Tensor::<2>::eye(4, &device), 0.1);
        let all = |b: usize, m: usize| {
            Tensor::<2, Bool>::from_data(TensorData::new(vec![true; b * m], [b, m]), &device)
        };
        // Each instance on its own prototype, both modalities agreeing.
        let spread = Tensor::<2>::eye(4, &device);
        let good = proto.proto_loss(&[spread.clone(), spread.clone()], all(4, 2));
        // Everything on one prototype: committed and agreeing, but a collapsed marginal.
        let collapsed = Tensor::<2>::from_floats([[1.0, 0.0, 0.0, 0.0]; 4], &device);
        let bad = proto.proto_loss(&[collapsed.clone(), collapsed], all(4, 2));
        // Modalities disagreeing.
        let rolled = spread.clone().roll_dim(1, 0);
        let disagree = proto.proto_loss(&[spread, rolled], all(4, 2));
        let good = good.into_scalar::<f32>();
        let bad = bad.into_scalar::<f32>();
        let disagree = disagree.into_scalar::<f32>();
        assert!(good.is_finite() && good >= 0.0);
        assert!(good < bad, "{good} !< {bad}");
        assert!(good < disagree, "{good} !< {disagree}");
    }

    #[test]
    fn proto_loss_of_nothing_present_is_zero() {
        let device = Device::flex();
        let proto = PrototypeEntropyConfig::new(4).init(&device);
        let z = Tensor::<2>::ones([3, 4], &device);
        let none = Tensor::<2, Bool>::from_data(TensorData::new(vec![false; 6], [3, 2]), &device);
        let l = proto.proto_loss(&[z.clone(), z], none).into_scalar::<f32>();
        assert_eq!(l, 0.0);
    }
}
