//! Deterministic parameters: every parameter initialised at build time in module order, with
//! ids fixed by the module structure, so a seed gives the same weights and byte-identical
//! checkpoint files on one device or several.

use burn::module::{Module, ModuleVisitor, Param};
use burn::tensor::{Bool, Int, Tensor};

/// Initialises every parameter now, in module order.
///
/// burn initialises a parameter lazily, on its first use, drawing from the device's RNG at
/// that moment: the values then depend on the order of first use. burn's multi-device workers
/// fork the model concurrently, so without this the initial weights of a data-parallel run
/// would depend on thread timing. Called on every freshly built model ([`crate::train::prepare`]),
/// so that a seed gives the same initial weights on one device or several.
pub fn initialize_params<M: Module>(model: M) -> M {
    struct Touch;
    impl ModuleVisitor for Touch {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            let _ = param.val();
        }
        fn visit_int<const D: usize>(&mut self, param: &Param<Tensor<D, Int>>) {
            let _ = param.val();
        }
        fn visit_bool<const D: usize>(&mut self, param: &Param<Tensor<D, Bool>>) {
            let _ = param.val();
        }
    }
    model.visit(&mut Touch);
    deterministic_ids(model)
}

/// Gives the parameters the ids `1, 2, 3, ...` in module order. burn draws a random
/// `ParamId` for every parameter, and burnpack files and the optimizer state are keyed by
/// them: with ids fixed by the module structure, the same run and seed write byte-identical
/// `model.bpk` and `optimizer.bpk` (a resumed model reads its ids back from `model.bpk`).
pub fn deterministic_ids<M: Module>(model: M) -> M {
    use burn::module::{ModuleMapper, ParamId};
    struct Ids(u64);
    impl Ids {
        fn next(&mut self) -> ParamId {
            self.0 += 1;
            ParamId::from(self.0)
        }
    }
    impl ModuleMapper for Ids {
        fn map_float<const D: usize>(&mut self, mut p: Param<Tensor<D>>) -> Param<Tensor<D>> {
            p.id = self.next();
            p
        }
        fn map_int<const D: usize>(
            &mut self,
            mut p: Param<Tensor<D, Int>>,
        ) -> Param<Tensor<D, Int>> {
            p.id = self.next();
            p
        }
        fn map_bool<const D: usize>(
            &mut self,
            mut p: Param<Tensor<D, Bool>>,
        ) -> Param<Tensor<D, Bool>> {
            p.id = self.next();
            p
        }
    }
    model.map(&mut Ids(0))
}
